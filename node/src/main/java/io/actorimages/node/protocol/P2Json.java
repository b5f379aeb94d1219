package io.actorimages.node.protocol;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The one Jackson mapper of the P2 codec (PROTOCOLS.md P2), shared by parsing and rendering; thread-safe. */
final class P2Json {

  /**
   * Rejects trailing tokens after the JSON value, as Python's {@code json.loads} in the seed server did. Writes
   * compact JSON with non-ASCII characters as raw UTF-8 (Jackson's default), so {@code concluído} travels as the
   * seed's text reads, and keeps the key order in which a reply's fields are put.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  private P2Json() {}
}
