namespace ActorImages.Protocols;

/// <summary>
/// The few ASCII rules the legacy protocols share: decimal numbers and MD5 hex strings. Stricter than Python's
/// <c>int()</c>, which the seed servers used: it accepts signs, underscores and non-ASCII digits, none of which a
/// legacy client sends (docs/protocols.md, "Bad input").
/// </summary>
internal static class Ascii
{
    /// <summary>Length of an MD5 written in hex (docs/protocols.md, P3 and P4).</summary>
    public const int Md5HexLength = 32;

    /// <summary>Whether <paramref name="c"/> is <c>0-9</c>, <c>a-f</c> or <c>A-F</c>.</summary>
    public static bool IsHexDigit(int c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';

    /// <summary>
    /// The value of <paramref name="text"/> as ASCII decimal digits only (leading zeros allowed, no sign, no
    /// space), or -1 when it is empty, holds anything else or exceeds <paramref name="max"/>.
    /// </summary>
    public static long ParseDecimal(ReadOnlySpan<char> text, long max)
    {
        if (text.IsEmpty)
        {
            return -1;
        }
        long value = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return -1;
            }
            int digit = c - '0';
            // Checked before multiplying, so a 30-digit number cannot overflow into a valid one.
            if (value > (max - digit) / 10)
            {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    /// <summary><paramref name="md5"/> in lowercase if it is exactly 32 hex characters, else null.</summary>
    public static string? Md5OrNull(ReadOnlySpan<char> md5)
    {
        if (md5.Length != Md5HexLength)
        {
            return null;
        }
        foreach (char c in md5)
        {
            if (!IsHexDigit(c))
            {
                return null;
            }
        }
        return ToLower(md5);
    }

    /// <summary><paramref name="text"/> with <c>A-Z</c> mapped to <c>a-z</c>, every other character unchanged.</summary>
    public static string ToLower(ReadOnlySpan<char> text) => string.Create(text.Length, text, static (chars, source) =>
    {
        for (int i = 0; i < source.Length; i++)
        {
            char c = source[i];
            chars[i] = c is >= 'A' and <= 'Z' ? (char)(c + ('a' - 'A')) : c;
        }
    });

    /// <summary>
    /// Whether <paramref name="text"/> equals the ASCII uppercase <paramref name="upper"/> ignoring ASCII case
    /// only: a non-ASCII look-alike such as <c>ſ</c> (which Python upper-cases to <c>S</c>) never matches.
    /// </summary>
    public static bool EqualsIgnoreAsciiCase(string text, string upper)
    {
        if (text.Length != upper.Length)
        {
            return false;
        }
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= 'a' and <= 'z')
            {
                c = (char)(c - ('a' - 'A'));
            }
            if (c != upper[i])
            {
                return false;
            }
        }
        return true;
    }
}
