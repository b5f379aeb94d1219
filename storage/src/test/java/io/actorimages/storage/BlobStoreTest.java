package io.actorimages.storage;

import static io.actorimages.storage.TestImages.digest;
import static io.actorimages.storage.TestImages.list;
import static io.actorimages.storage.TestImages.stage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class BlobStoreTest {

  private static final Instant RECEIVED = Instant.parse("2026-11-22T14:30:05.750Z");

  @TempDir
  Path dataDir;
  private BlobStore store;

  @BeforeEach
  void openStore() {
    store = new BlobStore(dataDir, 64L << 20);
  }

  static Stream<TestImages.Image> images() {
    return TestImages.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void everyRealImageIsCommittedUnderItsUtcDateAndTimeWithIdenticalBytes(TestImages.Image image) throws Exception {
    StagedBlob staged = stage(store.newWriter(), image.bytes(), 64 * 1024);

    StoredBlob stored = store.commit(staged, RECEIVED);

    assertEquals("2026-11-22/143005." + image.format().extension(), stored.relativePath());
    assertArrayEquals(image.bytes(), Files.readAllBytes(store.resolve(stored.relativePath())));
    assertEquals(List.of(staged.size(), staged.md5(), staged.sha256(), staged.format(), staged.width(),
        staged.height()), List.of(stored.size(), stored.md5(), stored.sha256(), stored.format(), stored.width(),
        stored.height()));
    assertTrue(Files.notExists(staged.tempFile()), "the temp file is deleted");
    assertEquals(List.of(), list(dataDir.resolve(".tmp")));
  }

  @Test
  void secondImageInTheSameSecondGetsSuffixOneAndTheThirdSuffixTwo() throws Exception {
    List<String> paths = new ArrayList<>();
    for (String name : List.of("rocket.jpg", "rocket.jpg", "rocket.jpg")) {
      paths.add(commit(store, name, RECEIVED).relativePath());
    }
    assertEquals(List.of("2026-11-22/143005.jpg", "2026-11-22/143005-1.jpg",
        "2026-11-22/143005-2.jpg"), paths);
  }

  @Test
  void imagesOfDifferentFormatsInTheSameSecondKeepTheirOwnExtension() throws Exception {
    assertEquals("2026-11-22/143005.jpg", commit(store, "rocket.jpg", RECEIVED).relativePath());
    assertEquals("2026-11-22/143005.png", commit(store, "chelsea.png", RECEIVED).relativePath());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "2026-11-22T23:59:59.999Z, 2026-11-22/235959.png",
      "2026-11-23T00:00:00Z, 2026-11-23/000000.png",
      "2027-01-01T09:08:07+02:00, 2027-01-01/070807.png",
  })
  void dateFolderAndFileNameAreTheUtcTimeOfReceipt(String receivedAt, String expected) throws Exception {
    Instant instant = OffsetDateTime.parse(receivedAt).toInstant();
    assertEquals(expected, commit(store, "chelsea.png", instant).relativePath());
  }

  @Test
  void concurrentCommitsOfTheSameSecondNeverOverwriteOneAnother() throws Exception {
    // One extension for all, so that all compete for the same names; three photos, so contents differ.
    List<TestImages.Image> images = TestImages.all().filter(image -> image.format() == ImageFormat.PNG).toList();
    int commits = 24;
    List<StagedBlob> staged = new ArrayList<>();
    for (int i = 0; i < commits; i++) {
      staged.add(stage(store.newWriter(), images.get(i % images.size()).bytes(), 64 * 1024));
    }
    CyclicBarrier start = new CyclicBarrier(commits);
    ExecutorService pool = Executors.newFixedThreadPool(commits);
    List<Future<StoredBlob>> results = new ArrayList<>();
    try {
      for (StagedBlob blob : staged) {
        Callable<StoredBlob> commit = () -> {
          start.await();
          return store.commit(blob, RECEIVED);
        };
        results.add(pool.submit(commit));
      }
      List<String> expectedPaths = IntStream.range(0, commits)
          .mapToObj(i -> "2026-11-22/143005" + (i == 0 ? "" : "-" + i) + ".png").sorted().toList();
      List<String> paths = new ArrayList<>();
      for (Future<StoredBlob> result : results) {
        StoredBlob stored = result.get();
        // Each name holds the bytes of the upload it was returned for: nothing was overwritten.
        byte[] onDisk = Files.readAllBytes(store.resolve(stored.relativePath()));
        assertEquals(stored.sha256(), digest("SHA-256", onDisk), stored.relativePath());
        paths.add(stored.relativePath());
      }
      assertEquals(expectedPaths, paths.stream().sorted().toList());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void commitByCopyAlsoNeverOverwrites() throws Exception {
    BlobStore withoutHardLinks = new BlobStore(dataDir, 64L << 20, false);
    StoredBlob first = commit(withoutHardLinks, "rocket.jpg", RECEIVED);
    StoredBlob second = commit(withoutHardLinks, "chelsea.png", RECEIVED);
    StoredBlob third = commit(withoutHardLinks, "rocket.jpg", RECEIVED);

    assertEquals(List.of("143005.jpg", "143005.png", "143005-1.jpg"), Stream.of(first, second, third)
        .map(stored -> stored.relativePath().replace("2026-11-22/", "")).toList());
    assertArrayEquals(TestImages.bytes("rocket.jpg"), Files.readAllBytes(store.resolve(first.relativePath())));
    assertEquals(List.of(), list(dataDir.resolve(".tmp")));
  }

  @Test
  void aStagedBlobIsCommittedAtMostOnce() throws Exception {
    StagedBlob staged = stage(store.newWriter(), TestImages.bytes("rocket.jpg"), 64 * 1024);
    store.commit(staged, RECEIVED);

    assertThrows(IOException.class, () -> store.commit(staged, RECEIVED));
    assertEquals(List.of("143005.jpg"), list(dataDir.resolve("2026-11-22")));
  }

  @Test
  void leftoverTempFilesAreRemovedAtStart() throws Exception {
    StoredBlob kept = commit(store, "rocket.jpg", RECEIVED);
    Path tmp = dataDir.resolve(".tmp");
    Files.write(tmp.resolve("upload-1.part"), new byte[] {1, 2, 3});
    Files.write(tmp.resolve("upload-2.part"), new byte[0]);
    Files.createDirectories(tmp.resolve("stray/deeper"));
    Files.write(tmp.resolve("stray/deeper/file"), new byte[] {4});

    BlobStore restarted = new BlobStore(dataDir, 64L << 20);
    assertEquals(3, restarted.removeLeftoverTempFiles());
    assertEquals(List.of(), list(tmp));
    assertTrue(Files.exists(restarted.resolve(kept.relativePath())), "committed images stay");
  }

  @Test
  void constructorCreatesTheDataDirectoryAndItsTempFolder() {
    Path fresh = dataDir.resolve("node-2/data-dir");
    BlobStore created = new BlobStore(fresh, 1);
    assertTrue(Files.isDirectory(fresh.resolve(".tmp")));
    assertEquals(fresh.toAbsolutePath(), created.dataDir());
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", " ", "..", "../outside.jpg", "data/../../outside.jpg", "2026-11-22/../../..",
      "/etc/passwd", "./..", "data/./../../x", "\\\\server\\share"})
  void resolveRejectsPathsOutsideTheDataDirectory(String relativePath) {
    assertThrows(IllegalArgumentException.class, () -> store.resolve(relativePath));
  }

  @Test
  void resolveAndDeleteFindACommittedImage() throws Exception {
    StoredBlob stored = commit(store, "chelsea.png", RECEIVED);
    Path file = store.resolve(stored.relativePath());

    assertEquals(dataDir.toAbsolutePath().resolve("2026-11-22/143005.png"), file);
    assertTrue(store.delete(stored.relativePath()));
    assertFalse(Files.exists(file));
    assertFalse(store.delete(stored.relativePath()));
  }

  private static StoredBlob commit(BlobStore target, String name, Instant receivedAt) throws Exception {
    return target.commit(stage(target.newWriter(), TestImages.bytes(name), 64 * 1024), receivedAt);
  }
}
