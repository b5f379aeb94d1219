package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 point 2 and point 6, fourth scenario, on a real 2-node cluster (127.0.0.91–92, both nodes hold every
 * image): one replica file is corrupted on disk and another deleted. Reads through every protocol still return
 * the right bytes (a copy is checked before it is served), and the scrub puts a sound copy back in both places.
 */
class ScrubTest {

  @Test
  void corruptAndDeletedReplicasAreNeverServedAndTheScrubRepairsBoth() throws Exception {
    try (TestCluster cluster = TestCluster.start(90, 2, "actorimages.scrub.pace = 50ms")) {
      byte[] rocket = TestImages.bytes("rocket.jpg");
      byte[] chelsea = TestImages.bytes("chelsea.png");
      LegacyP1.send(cluster.host(1), rocket);
      LegacyP1.send(cluster.host(2), chelsea);
      Path rocketOnOne = copyOf(cluster.dataDir(1), rocket);
      Path chelseaOnTwo = copyOf(cluster.dataDir(2), chelsea);

      byte[] corrupt = rocket.clone();
      corrupt[corrupt.length / 2] ^= 0x55;
      Files.write(rocketOnOne, corrupt);
      Files.delete(chelseaOnTwo);

      for (int i = 1; i <= 2; i++) {
        assertArrayEquals(rocket, LegacyP3.get(cluster.host(i), 13378, TestImages.md5(rocket)), "rocket on " + i);
        assertArrayEquals(chelsea, LegacyP3.get(cluster.host(i), 13378, TestImages.md5(chelsea)), "chelsea on " + i);
      }

      Poll.until(Duration.ofSeconds(30), "a sound rocket on node 1 and no corrupt file left", () ->
          copies(cluster.dataDir(1), rocket) == 1 && copies(cluster.dataDir(1), corrupt) == 0);
      Poll.until(Duration.ofSeconds(30), "a sound chelsea on node 2", () -> copies(cluster.dataDir(2), chelsea) == 1);
      // The catalog points at the restored copies: node 1 serves rocket from its own disk again.
      assertArrayEquals(rocket, LegacyP3.get(cluster.host(1), 13378, TestImages.md5(rocket)));
      assertEquals(1, copies(cluster.dataDir(2), rocket));
    }
  }

  private static Path copyOf(Path dataDir, byte[] bytes) {
    List<Path> found = images(dataDir).stream().filter(p -> Arrays.equals(read(p), bytes)).toList();
    assertEquals(1, found.size(), "one copy in " + dataDir);
    return found.get(0);
  }

  private static long copies(Path dataDir, byte[] bytes) {
    return images(dataDir).stream().filter(p -> Arrays.equals(read(p), bytes)).count();
  }

  private static List<Path> images(Path dataDir) {
    try (Stream<Path> files = Files.walk(dataDir)) {
      return files.filter(Files::isRegularFile)
          .filter(p -> p.getParent().getFileName().toString().matches("\\d{4}-\\d{2}-\\d{2}")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
