package dev.jdetect.train.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link ParameterExchange}'s chunked all-gather, on threads standing in for barrier tasks. */
class ParameterExchangeTest {

  /** An all-gather among {@code n} threads that counts its rounds. */
  private static final class ThreadGather {
    private final String[] slots;
    private final CyclicBarrier arrived;
    private final CyclicBarrier read;
    final AtomicInteger rounds = new AtomicInteger();

    ThreadGather(int n) {
      slots = new String[n];
      arrived = new CyclicBarrier(n, rounds::incrementAndGet);
      read = new CyclicBarrier(n);
    }

    String[] gather(int rank, String message) {
      try {
        slots[rank] = message;
        arrived.await();
        String[] all = slots.clone();
        read.await();
        return all;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static byte[] bytes(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i * 7);
    }
    return b;
  }

  /** Runs one all-gather of {@code messages[rank]} on as many threads; each thread's result. */
  private static List<byte[][]> exchange(ThreadGather g, byte[][] messages, int chunk)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(messages.length);
    try {
      List<Future<byte[][]>> running = new ArrayList<>();
      for (int r = 0; r < messages.length; r++) {
        int rank = r;
        ParameterExchange x = new ParameterExchange(m -> g.gather(rank, m), rank, chunk);
        running.add(pool.submit(() -> x.allGather(messages[rank])));
      }
      List<byte[][]> out = new ArrayList<>();
      for (Future<byte[][]> f : running) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void messagesOfOneChunkTakeOneRound() throws Exception {
    // a round costs up to a second on Spark: the length travels with the first chunk
    ThreadGather g = new ThreadGather(2);
    byte[][] messages = {bytes(16, 1), bytes(3, 2)};
    List<byte[][]> got = exchange(g, messages, 16);
    assertEquals(1, g.rounds.get());
    for (byte[][] all : got) {
      assertArrayEquals(messages[0], all[0]);
      assertArrayEquals(messages[1], all[1]);
    }
  }

  @Test
  void longMessagesArriveWholeOverSeveralRounds() throws Exception {
    ThreadGather g = new ThreadGather(3);
    byte[][] messages = {new byte[0], bytes(7, 2), bytes(23, 3)};
    List<byte[][]> got = exchange(g, messages, 5);
    assertEquals(5, g.rounds.get(), "ceil(23 / 5) rounds");
    for (byte[][] all : got) {
      for (int r = 0; r < messages.length; r++) {
        assertArrayEquals(messages[r], all[r], "rank " + r);
      }
    }
  }

  @Test
  void emptyMessagesTakeOneRound() throws Exception {
    ThreadGather g = new ThreadGather(2);
    List<byte[][]> got = exchange(g, new byte[][] {new byte[0], new byte[0]}, 4);
    assertEquals(1, g.rounds.get());
    assertEquals(0, got.get(1)[0].length);
  }
}
