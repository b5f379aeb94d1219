package io.actorimages.tests;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;
import javax.imageio.ImageIO;

/**
 * A stream of P2 uploads from one legacy-style client, as the fault scenarios use it (KillDuringUploadsTest,
 * bin/faults): each image is distinct, and when its node goes away the client moves on to the next live node.
 */
public final class Uploads {
  private Uploads() {}

  /**
   * Uploads {@code count} images from client {@code client} over P2, starting on node {@code client % 3 + 1}.
   *
   * @param host         node number → address
   * @param alive        node number → whether it may still be used
   * @param acknowledged receives md5 → bytes of every upload answered SUCCESS
   * @param failed       counts uploads not acknowledged
   * @param acks         counted down once per acknowledgement
   */
  public static void run(int client, int count, IntFunction<String> host, IntPredicate alive,
                         Map<String, byte[]> acknowledged, AtomicInteger failed, CountDownLatch acks) {
    int node = client % 3 + 1;
    LegacyP2 p2 = null;
    for (int n = 0; n < count; n++) {
      byte[] image = image(client * 1000 + n);
      try {
        if (p2 == null) {
          p2 = LegacyP2.connect(host.apply(node));
          p2.command("AUTH", "client" + client);
        }
        JsonNode reply = p2.upload("img-" + client + "-" + n + ".png", image);
        if ("SUCCESS".equals(reply.path("status").asText())) {
          acknowledged.put(TestImages.md5(image), image);
          acks.countDown();
        } else {
          failed.incrementAndGet();
        }
      } catch (Throwable connectionLost) {
        failed.incrementAndGet();
        if (p2 != null) p2.close();
        p2 = null;
        do node = node % 3 + 1; while (!alive.test(node));
      }
    }
    if (p2 != null) p2.close();
  }

  /** A small distinct PNG: 48×48 of seeded noise. */
  public static byte[] image(int seed) {
    BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(seed);
    for (int y = 0; y < 48; y++) for (int x = 0; x < 48; x++) img.setRGB(x, y, random.nextInt(0x1000000));
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
