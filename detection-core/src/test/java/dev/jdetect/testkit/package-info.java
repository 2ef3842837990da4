/**
 * The test kit shared by every module's tests (published as detection-core's test jar): fixture
 * loading, a per-test {@code NDManager}, and direct-memory churn for autograd-safety tests.
 */
package dev.jdetect.testkit;
