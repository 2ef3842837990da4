package dev.jdetect.testkit;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that hands each test method a fresh {@link NDManager} parameter and closes it
 * after the test, so no test class repeats the set-up and no test leaks native memory into the
 * next.
 *
 * <pre>{@code
 * @ExtendWith(NDManagerExtension.class)
 * class BoxesTest {
 *   @Test
 *   void area(NDManager manager) { ... }
 * }
 * }</pre>
 */
public final class NDManagerExtension implements ParameterResolver, AfterEachCallback {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(NDManagerExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == NDManager.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
      throws ParameterResolutionException {
    return context
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("manager", k -> NDManager.newBaseManager(), NDManager.class);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    NDManager manager = context.getStore(NAMESPACE).remove("manager", NDManager.class);
    if (manager != null) {
      manager.close();
    }
  }
}
