package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class P1FrameDecoderTest {

  private static final long MAX = 64L * 1024 * 1024;
  /** The real photographs of {@code testdata/images}; Maven runs a module's tests from the module folder. */
  private static final Path IMAGES = Path.of(System.getProperty("testdata.dir", "../testdata")).resolve("images");
  private static final byte[] JPEG = read("rocket.jpg"); // 112,525 bytes, about a camera client's frame
  private static final byte[] PNG = read("chelsea.png");
  private static final byte[] TIFF = read("multipage_rgb.tif"); // 5,278 bytes: small enough to split everywhere

  @Test
  void oneFrameInOneChunkIsStartBytesEnd() throws P1FrameException {
    P1FrameDecoder decoder = new P1FrameDecoder(MAX);
    List<P1Event> events = decoder.feed(frame(JPEG));
    assertEquals(List.of(
        new P1Event.FrameStart(JPEG.length),
        new P1Event.FrameBytes(ByteString.fromArray(JPEG)),
        new P1Event.FrameEnd()), events);
    assertFalse(decoder.midFrame());
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 2, 3, 4, 5, 7, 1000, 1 << 20})
  void framesBackToBackSurviveAnyChunking(int chunkSize) throws P1FrameException {
    ByteString stream = frame(JPEG).concat(frame(PNG)).concat(frame(new byte[] {42}));
    List<byte[]> frames = decodeAll(new P1FrameDecoder(MAX), chunks(stream, chunkSize));
    assertEquals(3, frames.size());
    assertEquals(ByteString.fromArray(JPEG), ByteString.fromArray(frames.get(0)));
    assertEquals(ByteString.fromArray(PNG), ByteString.fromArray(frames.get(1)));
    assertEquals(ByteString.fromArray(new byte[] {42}), ByteString.fromArray(frames.get(2)));
  }

  @Test
  void headerSplitAtEveryPositionGivesTheSameFrame() throws P1FrameException {
    ByteString stream = frame(TIFF);
    for (int split = 1; split < stream.length(); split++) {
      List<byte[]> frames = decodeAll(new P1FrameDecoder(MAX),
          List.of(stream.slice(0, split), stream.slice(split, stream.length())));
      assertEquals(ByteString.fromArray(TIFF), ByteString.fromArray(frames.get(0)), "split at " + split);
    }
  }

  @Test
  void bodyBytesAreSlicesOfTheChunkNeverEmpty() throws P1FrameException {
    P1FrameDecoder decoder = new P1FrameDecoder(MAX);
    ByteString stream = frame(PNG);
    List<P1Event> events = new ArrayList<>(decoder.feed(stream.slice(0, 4)));
    events.addAll(decoder.feed(stream.slice(4, 10)));
    events.addAll(decoder.feed(ByteString.emptyByteString()));
    events.addAll(decoder.feed(stream.slice(10, stream.length())));
    assertEquals(List.of(
        new P1Event.FrameStart(PNG.length),
        new P1Event.FrameBytes(stream.slice(4, 10)),
        new P1Event.FrameBytes(stream.slice(10, stream.length())),
        new P1Event.FrameEnd()), events);
  }

  @Test
  void compositeByteStringsDecodeLikeFlatOnes() throws P1FrameException {
    ByteString stream = frame(JPEG);
    ByteString composite = stream.slice(0, 2).concat(stream.slice(2, 7)).concat(stream.slice(7, stream.length()));
    List<byte[]> frames = decodeAll(new P1FrameDecoder(MAX), List.of(composite));
    assertEquals(ByteString.fromArray(JPEG), ByteString.fromArray(frames.get(0)));
  }

  static Stream<Arguments> refusedHeaders() {
    return Stream.of(
        Arguments.of("zero length", header(0), MAX, 0L),
        Arguments.of("one above the limit", header(MAX + 1), MAX, MAX + 1),
        Arguments.of("2^32 - 1, read unsigned", header(0xFFFF_FFFFL), MAX, 0xFFFF_FFFFL),
        Arguments.of("2^31, sign bit set", header(0x8000_0000L), MAX, 0x8000_0000L),
        Arguments.of("small limit", header(101), 100L, 101L));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedHeaders")
  void zeroOrOversizeLengthIsRefusedAtTheFourthHeaderByte(String name, byte[] header, long max, long length) {
    P1FrameDecoder decoder = new P1FrameDecoder(max);
    // Header bytes arrive one by one and no body byte ever comes: the refusal cannot depend on receiving N bytes.
    P1FrameException refused = assertThrows(P1FrameException.class, () -> {
      for (byte b : header) {
        decoder.feed(ByteString.fromArray(new byte[] {b}));
      }
    });
    assertEquals(length, refused.length());
    assertTrue(refused.getMessage().contains(Long.toString(length)), refused.getMessage());
    assertEquals(List.of(), refused.eventsBefore());
  }

  @Test
  void lengthEqualToTheLimitIsAcceptedAndReadUnsigned() throws P1FrameException {
    P1FrameDecoder decoder = new P1FrameDecoder(0xFFFF_FFFFL);
    assertEquals(List.of(new P1Event.FrameStart(0xFFFF_FFFFL)),
        decoder.feed(ByteString.fromArray(header(0xFFFF_FFFFL))));
    assertTrue(decoder.midFrame());
  }

  @Test
  void wholeFrameBeforeARefusedHeaderInTheSameChunkIsHandedOver() {
    P1FrameDecoder decoder = new P1FrameDecoder(MAX);
    ByteString chunk = frame(PNG).concat(ByteString.fromArray(header(0)));
    P1FrameException refused = assertThrows(P1FrameException.class, () -> decoder.feed(chunk));
    assertEquals(List.of(
        new P1Event.FrameStart(PNG.length),
        new P1Event.FrameBytes(ByteString.fromArray(PNG)),
        new P1Event.FrameEnd()), refused.eventsBefore());
  }

  @Test
  void feedingAfterARefusalIsABug() {
    P1FrameDecoder decoder = new P1FrameDecoder(MAX);
    assertThrows(P1FrameException.class, () -> decoder.feed(ByteString.fromArray(header(0))));
    assertThrows(IllegalStateException.class, () -> decoder.feed(ByteString.fromArray(new byte[] {1})));
  }

  @Test
  void limitBelowOneIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new P1FrameDecoder(0));
  }

  static Stream<Arguments> eofPoints() {
    int whole = 4 + PNG.length;
    return Stream.of(
        Arguments.of(0, false),
        Arguments.of(1, true),
        Arguments.of(3, true),
        Arguments.of(4, true),
        Arguments.of(5, true),
        Arguments.of(whole - 1, true),
        Arguments.of(whole, false),
        Arguments.of(whole + 2, true),
        Arguments.of(whole + 4, true));
  }

  @ParameterizedTest(name = "EOF after {0} bytes: truncated = {1}")
  @MethodSource("eofPoints")
  void midFrameTellsWhetherEofTruncatesAnUpload(int received, boolean truncated) throws P1FrameException {
    P1FrameDecoder decoder = new P1FrameDecoder(MAX);
    ByteString stream = frame(PNG).concat(frame(PNG));
    decoder.feed(stream.slice(0, received));
    assertEquals(truncated, decoder.midFrame());
  }

  // ---- helpers ----

  private static List<byte[]> decodeAll(P1FrameDecoder decoder, List<ByteString> chunks) throws P1FrameException {
    List<byte[]> frames = new ArrayList<>();
    ByteArrayOutputStream current = null;
    long announced = -1;
    for (ByteString chunk : chunks) {
      for (P1Event event : decoder.feed(chunk)) {
        if (event instanceof P1Event.FrameStart start) {
          assertEquals(null, current, "start inside a frame");
          current = new ByteArrayOutputStream();
          announced = start.length();
        } else if (event instanceof P1Event.FrameBytes bytes) {
          assertTrue(bytes.bytes().length() > 0, "empty FrameBytes");
          current.writeBytes(bytes.bytes().toArray());
        } else {
          assertEquals(announced, current.size());
          frames.add(current.toByteArray());
          current = null;
        }
      }
    }
    assertFalse(decoder.midFrame());
    return frames;
  }

  private static List<ByteString> chunks(ByteString stream, int size) {
    List<ByteString> chunks = new ArrayList<>();
    for (int from = 0; from < stream.length(); from += size) {
      chunks.add(stream.slice(from, Math.min(stream.length(), from + size)));
    }
    return chunks;
  }

  private static ByteString frame(byte[] body) {
    return ByteString.fromArray(header(body.length)).concat(ByteString.fromArray(body));
  }

  private static byte[] header(long length) {
    return ByteBuffer.allocate(4).putInt((int) length).array();
  }

  private static byte[] read(String name) {
    try {
      return Files.readAllBytes(IMAGES.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("test image missing; set -Dtestdata.dir", e);
    }
  }
}
