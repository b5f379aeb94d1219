package io.actorimages.node.protocol;

/**
 * The few ASCII rules the legacy protocols share: decimal numbers and MD5 hex strings. Deliberately stricter than
 * Python's {@code int()} and {@code str.upper()}, which the seed servers would have used: those accept signs, underscores, non-ASCII
 * digits and case mappings such as {@code 'ſ' → 'S'}, none of which a legacy client sends.
 */
final class Ascii {

  /** Length of an MD5 written in hex (PROTOCOLS.md P3, P4). */
  static final int MD5_HEX_LENGTH = 32;

  private Ascii() {}

  /** Whether {@code c} is {@code 0-9}, {@code a-f} or {@code A-F}. */
  static boolean isHexDigit(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /**
   * The value of {@code text} as a decimal number of ASCII digits only (leading zeros allowed, no sign, no space).
   *
   * @return the value, or -1 when {@code text} is empty, holds anything but {@code 0-9}, or exceeds {@code max}
   */
  static long parseDecimal(String text, long max) {
    if (text.isEmpty()) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      int digit = c - '0';
      if (digit > max || value > (max - digit) / 10) {
        return -1; // checked before multiplying, so a 30-digit number cannot overflow into a valid one
      }
      value = value * 10 + digit;
    }
    return value;
  }

  /** {@code md5} in lowercase if it is exactly 32 hex characters, else {@code null}. */
  static String md5OrNull(String md5) {
    if (md5.length() != MD5_HEX_LENGTH) {
      return null;
    }
    for (int i = 0; i < MD5_HEX_LENGTH; i++) {
      if (!isHexDigit(md5.charAt(i))) {
        return null;
      }
    }
    return toLowerCase(md5);
  }

  /** {@code text} with {@code A-Z} mapped to {@code a-z} and every other character unchanged. */
  static String toLowerCase(String text) {
    return mapCase(text, 'A', 'Z', 'a' - 'A');
  }

  /** {@code text} with {@code a-z} mapped to {@code A-Z} and every other character unchanged. */
  static String toUpperCase(String text) {
    return mapCase(text, 'a', 'z', 'A' - 'a');
  }

  private static String mapCase(String text, char from, char to, int shift) {
    char[] chars = text.toCharArray();
    for (int i = 0; i < chars.length; i++) {
      if (chars[i] >= from && chars[i] <= to) {
        chars[i] = (char) (chars[i] + shift);
      }
    }
    return new String(chars);
  }
}
