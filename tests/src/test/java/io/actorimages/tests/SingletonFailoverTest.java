package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 point 3 and point 6, second scenario, with real processes on 127.0.0.66–68: {@code kill -9} of the
 * node that runs the tracker singleton. The survivors answer {@code LST} with every registration well within
 * 10 s (from their local replicas), and the singleton runs again on a survivor with every registration intact
 * (an {@code UPD} with each peer's password is accepted). Prints the seconds measured.
 */
class SingletonFailoverTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] MD5 = {"a".repeat(32), "b".repeat(32), "c".repeat(32)};

  @Test
  void trackerAnswersOnTheSurvivorsWithEveryRegistrationAfterKillOfItsNode() throws Exception {
    try (NodeProcesses nodes = NodeProcesses.start(65, 3)) {
      for (int i = 1; i <= 3; i++) {
        assertEquals("OK 1_REGISTERED_IMAGES", LegacyP3.request(nodes.host(i), "127.0.0.1",
            "REG pw;" + i + " " + (41000 + i) + " '" + MD5[i - 1] + ",peer" + i + ".jpg'"));
      }
      Poll.until(Duration.ofSeconds(5), "all three peers listed", () -> listsAll(nodes.host(2)));
      String trackerHost = JSON.readTree(nodes.http(2, "/api/cluster")).path("trackerHost").asText();
      int victim = trackerHost.equals(nodes.host(1)) ? 1 : trackerHost.equals(nodes.host(2)) ? 2 : 3;
      int survivor = victim == 1 ? 2 : 1;

      nodes.kill(victim);
      long killedAt = System.nanoTime();
      Poll.until(Duration.ofSeconds(10), "LST on a survivor listing every registration",
          () -> listsAll(nodes.host(survivor)));
      double lstSeconds = (System.nanoTime() - killedAt) / 1e9;
      for (int i = 1; i <= 3; i++) {
        int peer = i;
        // Each try waits 1 s for the answer, like a person who asks again when the tracker is silent.
        Poll.until(Duration.ofSeconds(30), "UPD of peer " + i + " accepted", () -> "OK 1_REGISTERED_FILES".equals(
            quickRequest(nodes.host(survivor), "UPD pw;" + peer + " " + (41000 + peer) + " '" + MD5[peer - 1]
                + ",peer" + peer + ".jpg'")));
        if (i == 1) {
          System.out.printf("singleton failover after kill -9: LST answered after %.1f s, "
              + "tracker writes after %.1f s%n", lstSeconds, (System.nanoTime() - killedAt) / 1e9);
        }
      }
      assertTrue(lstSeconds < 10, "LST within 10 s, was " + lstSeconds);
      String newTracker = JSON.readTree(nodes.http(survivor, "/api/cluster")).path("trackerHost").asText();
      assertTrue(!newTracker.equals(trackerHost) && !newTracker.isEmpty(), "singleton moved to " + newTracker);
    }
  }

  private static boolean listsAll(String host) {
    String lst = request(host, "LST");
    for (int i = 1; i <= 3; i++) if (!lst.contains(MD5[i - 1] + ",peer" + i + ".jpg,127.0.0.1:" + (41000 + i))) {
      return false;
    }
    return true;
  }

  private static String quickRequest(String host, String text) {
    try {
      return LegacyP3.request(host, "127.0.0.1", text.getBytes(java.nio.charset.StandardCharsets.UTF_8), 1024, 1000);
    } catch (IOException timeout) {
      return "";
    }
  }

  private static String request(String host, String text) {
    try {
      return LegacyP3.request(host, "127.0.0.1", text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
