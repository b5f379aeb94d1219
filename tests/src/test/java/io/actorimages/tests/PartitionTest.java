package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 points 4 and 6 (third scenario): a 2+1 partition between real node processes, each in its own network
 * namespace (10.77.0.1–3, made and removed by the test). The minority refuses writes with a clear error and
 * downs itself (exit code 3); the majority keeps serving; once the network heals the restarted node rejoins,
 * and no image accepted on either side is lost or duplicated. Skipped where namespaces cannot be made (not
 * root, no iproute2).
 */
class PartitionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void minorityRefusesWritesMajorityServesAndNothingIsLostOrDuplicatedAfterHealing() throws Exception {
    assumeTrue(Namespaces.available(), "needs root and iproute2 to create network namespaces");
    try (Namespaces ns = Namespaces.create(3);
         NodeProcesses nodes = NodeProcesses.start(ns.hosts(), ns.launchers())) {
      Map<String, byte[]> accepted = new LinkedHashMap<>();
      for (int n = 0; n < 4; n++) uploadWithRetries(nodes, 1, 500 + n, accepted);

      ns.isolate(3);
      long cutAt = System.nanoTime();
      // The minority refuses writes: its copies cannot reach the other nodes, nor its catalog write a majority.
      byte[] refused = KillDuringUploadsTest.image(900);
      try (LegacyP2 p2 = LegacyP2.connect(nodes.host(3))) {
        p2.command("AUTH", "minority");
        JsonNode reply = p2.upload("minority.png", refused);
        assertEquals("ERROR", reply.path("status").asText(), reply.toString());
        assertEquals(true, reply.path("message").asText().startsWith("Falha no upload: "), reply.toString());
        System.out.printf("minority refused the upload after %.1f s: %s%n", (System.nanoTime() - cutAt) / 1e9,
            reply.path("message").asText());
      }
      byte[] refusedP1 = KillDuringUploadsTest.image(901);
      try {
        LegacyP1.send(nodes.host(3), refusedP1);
      } catch (java.io.IOException nodeAlreadyGone) {
        // refused either way: the node closed the connection, or it had already downed itself
      }

      // The majority keeps serving, reads and writes.
      for (int n = 0; n < 4; n++) uploadWithRetries(nodes, 2, 600 + n, accepted);
      assertArrayEquals(accepted.values().iterator().next(),
          LegacyP3.get(nodes.host(2), 13378, accepted.keySet().iterator().next()));

      assertEquals(3, nodes.awaitExit(3, Duration.ofSeconds(60)), "the minority node downs itself with exit code 3");
      System.out.printf("minority node exited after %.1f s%n", (System.nanoTime() - cutAt) / 1e9);

      ns.heal(3);
      nodes.startNode(3); // what bin/cluster's supervisor does after exit code 3
      nodes.awaitUpMembers(3, Duration.ofSeconds(90));

      for (int i = 1; i <= 3; i++) {
        int node = i;
        List<String> md5s = Poll.value(Duration.ofSeconds(20), "catalog of node " + i, () -> {
          List<String> listed = listed(nodes, node);
          return listed.size() >= accepted.size() ? listed : null;
        });
        assertEquals(accepted.size(), md5s.size(), "each accepted image once on node " + i + ": " + md5s);
        assertEquals(accepted.keySet().stream().sorted().toList(), md5s.stream().sorted().toList());
        assertFalse(md5s.contains(TestImages.md5(refused)) || md5s.contains(TestImages.md5(refusedP1)));
      }
      for (var e : accepted.entrySet()) {
        assertArrayEquals(e.getValue(), LegacyP3.get(nodes.host(3), 13378, e.getKey()), e.getKey() + " on node 3");
      }
    }
  }

  private static void uploadWithRetries(NodeProcesses nodes, int node, int seed, Map<String, byte[]> accepted)
      throws Exception {
    byte[] image = KillDuringUploadsTest.image(seed);
    for (int attempt = 0; attempt < 5; attempt++) {
      try (LegacyP2 p2 = LegacyP2.connect(nodes.host(node))) {
        p2.command("AUTH", "majority");
        if ("SUCCESS".equals(p2.upload("img-" + seed + ".png", image).path("status").asText())) {
          accepted.put(TestImages.md5(image), image);
          return;
        }
      }
    }
    throw new AssertionError("upload " + seed + " to node " + node + " never succeeded");
  }

  private static List<String> listed(NodeProcesses nodes, int node) {
    try {
      List<String> md5s = new ArrayList<>();
      JSON.readTree(nodes.http(node, "/api/images?limit=500")).path("images")
          .forEach(i -> md5s.add(i.path("md5").asText()));
      return md5s;
    } catch (Exception e) {
      return List.of();
    }
  }
}
