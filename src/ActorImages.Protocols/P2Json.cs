using System.Globalization;
using System.Text;

namespace ActorImages.Protocols;

/// <summary>
/// The compact JSON writer of P2 replies (docs/protocols.md, P2). Hand-written rather than
/// <c>Utf8JsonWriter</c> because every encoder of System.Text.Json escapes characters outside the Basic
/// Multilingual Plane (and some within): here only what JSON requires is escaped (<c>"</c>, <c>\</c>, control
/// characters, lone surrogates), so "concluído" and an emoji in a filename travel as raw UTF-8, as the seed's
/// server and the Java version wrote them. Keys keep the order in which they are written.
/// </summary>
internal sealed class P2Json
{
    private readonly StringBuilder _text;
    private bool _first = true;

    private P2Json(StringBuilder text) => _text = text;

    /// <summary>Starts an object: <c>{</c>.</summary>
    public static P2Json Object(int capacity = 64) => new(new StringBuilder(capacity).Append('{'));

    /// <summary>Writes <c>"key":"value"</c>.</summary>
    public P2Json Put(string key, string value)
    {
        Key(key);
        WriteString(_text, value);
        return this;
    }

    /// <summary>Writes <c>"key":value</c> with a JSON number.</summary>
    public P2Json Put(string key, long value)
    {
        Key(key);
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    /// <summary>Writes <c>"key":</c> followed by already-rendered JSON.</summary>
    public P2Json PutRaw(string key, string json)
    {
        Key(key);
        _text.Append(json);
        return this;
    }

    /// <summary>Closes the object and returns its text.</summary>
    public string End() => _text.Append('}').ToString();

    private void Key(string key)
    {
        if (!_first)
        {
            _text.Append(',');
        }
        _first = false;
        WriteString(_text, key);
        _text.Append(':');
    }

    /// <summary>Appends <paramref name="value"/> as a JSON string literal, quotes included.</summary>
    public static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || IsLoneSurrogate(value, i))
                    {
                        // A lone surrogate has no UTF-8 form; escaped, the frame stays valid UTF-8.
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c))
                    {
                        text.Append(c).Append(value[++i]);
                    }
                    else
                    {
                        text.Append(c);
                    }
                    break;
            }
        }
        text.Append('"');
    }

    /// <summary>The UTF-8 byte count of <paramref name="value"/> as <see cref="WriteString"/> renders it.</summary>
    public static int StringByteCount(string value)
    {
        var text = new StringBuilder(value.Length + 8);
        WriteString(text, value);
        return Utf8.GetByteCount(text.ToString());
    }

    /// <summary>Strict UTF-8 without a byte-order mark.</summary>
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static bool IsLoneSurrogate(string value, int i)
    {
        char c = value[i];
        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]);
        }
        return char.IsLowSurrogate(c); // a low surrogate reached here had no high one before it
    }
}
