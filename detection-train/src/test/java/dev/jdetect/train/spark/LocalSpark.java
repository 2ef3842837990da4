package dev.jdetect.train.spark;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Test extension: one {@code local[2]} {@link SparkSession} for all Spark tests of the run (started
 * on first use, stopped when the test run ends), injected as a parameter. Small settings keep each
 * job fast: no UI, two shuffle partitions, no adaptive re-partitioning (the tests choose their
 * partitions), no code generation.
 */
public final class LocalSpark implements ParameterResolver {

  private static final String KEY = "jdetect.spark";

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == SparkSession.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    ExtensionContext.Store store = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL);
    return store.getOrComputeIfAbsent(KEY, k -> new Session(), Session.class).spark;
  }

  /** The session, stopped by JUnit when the root context closes. */
  private static final class Session implements ExtensionContext.Store.CloseableResource {
    final SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("jdetect-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.adaptive.enabled", "false")
            // the test queries are tiny: interpreting them beats compiling generated code
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .getOrCreate();

    @Override
    public void close() {
      spark.stop();
    }
  }
}
