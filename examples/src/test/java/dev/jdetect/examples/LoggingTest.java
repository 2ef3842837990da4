package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The examples log through slf4j-simple: libraries' warnings and jdetect's own messages. */
class LoggingTest {

  @Test
  void examplesShipAProviderWithQuietDefaults() {
    assertEquals(
        "org.slf4j.simple.SimpleLoggerFactory",
        LoggerFactory.getILoggerFactory().getClass().getName(),
        "no provider would print SLF4J's three-line warning on every run");
    assertFalse(LoggerFactory.getLogger("ai.djl.pytorch.engine.PtEngine").isInfoEnabled());
    assertTrue(LoggerFactory.getLogger("ai.djl.pytorch.engine.PtEngine").isWarnEnabled());
    assertTrue(LoggerFactory.getLogger("dev.jdetect.core.nd.ConvolutionCheck").isInfoEnabled());
    assertFalse(LoggerFactory.getLogger("dev.jdetect.core.nd.ConvolutionCheck").isDebugEnabled());
  }
}
