package io.actorimages.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/** The real photographs under {@code testdata/images} (see its README for origin and licence). */
public final class TestImages {
  private TestImages() {}

  /** The folder, from {@code -Dtestdata.dir} or {@code ../testdata} relative to the module. */
  public static Path dir() {
    return Path.of(System.getProperty("testdata.dir", "../testdata")).resolve("images");
  }

  /** The bytes of {@code name}. */
  public static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(dir().resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lowercase hex MD5 of {@code bytes}. */
  public static String md5(byte[] bytes) {
    try {
      return String.format("%032x", new BigInteger(1, MessageDigest.getInstance("MD5").digest(bytes)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
