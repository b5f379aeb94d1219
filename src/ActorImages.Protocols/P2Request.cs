using System.Text;
using System.Text.Json;

namespace ActorImages.Protocols;

/// <summary>
/// A command of the P2 WebSocket repository (docs/protocols.md, P2): one text frame
/// <c>{"cmd": "&lt;CMD&gt;", "args": [ … ]}</c>. <see cref="Parse"/> is the server side; <see cref="ToJson"/>
/// renders a command as a client sends it. A malformed frame becomes <see cref="Invalid"/> with the seed's own
/// Portuguese error text, which the server answers with <see cref="P2Reply.Error"/> while the connection stays
/// open.
/// </summary>
public abstract record P2Request
{
    private P2Request() { }

    /// <summary><c>AUTH [username]</c>.</summary>
    /// <param name="User">The name as given, untrimmed; <c>anon</c> when missing, blank or not a JSON string.</param>
    public sealed record Auth(string User) : P2Request;

    /// <summary><c>LIST []</c>; any args are ignored, as the seed did.</summary>
    public sealed record List : P2Request;

    /// <summary><c>UPLOAD [filename, size]</c>: after <c>READY</c> the client sends one binary frame of
    /// <paramref name="Size"/> bytes.</summary>
    /// <param name="Filename">The catalog label as given, not a path: not trimmed, not checked (the gateway
    /// decides what it stores).</param>
    /// <param name="Size">The announced size in bytes, ≥ 0; the limit (<c>max-image-bytes</c>) is the
    /// gateway's to apply.</param>
    public sealed record Upload(string Filename, long Size) : P2Request;

    /// <summary><c>DOWNLOAD [filename]</c>: the client saves the file under <c>SIZE_INFO.filename</c>.</summary>
    /// <param name="Filename">The catalog label as given.</param>
    public sealed record Download(string Filename) : P2Request;

    /// <summary><c>VIEW [filename]</c>: the same bytes as <see cref="Download"/>; the client shows them.</summary>
    /// <param name="Filename">The catalog label as given.</param>
    public sealed record View(string Filename) : P2Request;

    /// <summary><c>DISCONNECT []</c>; any args are ignored. The server answers <c>BYE</c> and closes.</summary>
    public sealed record Disconnect : P2Request;

    /// <summary>A frame that is no valid command.</summary>
    /// <param name="ErrorMessage">The exact text for <c>{"status":"ERROR","message":…}</c>, one of the
    /// <see cref="P2Reply"/> error constants.</param>
    public sealed record Invalid(string ErrorMessage) : P2Request;

    /// <summary>
    /// Parses one text frame. Never throws. The rules (docs/protocols.md, P2 errors):
    /// <list type="bullet">
    /// <item>not JSON (empty, blank, trailing text after the value, single quotes, raw control characters in a
    /// string, nesting deeper than 64, null) → <see cref="P2Reply.NotJson"/>;</item>
    /// <item>JSON that is not an object, a <c>cmd</c> missing or not a string, or not one of AUTH, LIST, UPLOAD,
    /// DOWNLOAD, VIEW, DISCONNECT in any ASCII case (non-ASCII look-alikes such as <c>LIſT</c> included) →
    /// <see cref="P2Reply.UnknownCommand"/>: the seed crashed on those, and valid JSON is no format error;</item>
    /// <item><c>args</c> missing or null → empty; of another type than an array → the command's format error;</item>
    /// <item>UPLOAD: exactly 2 args, the first a string, else <see cref="P2Reply.UploadFormat"/>; the size a string
    /// of ASCII digits (what the legacy client sends) or an integral JSON number, 0 to <see cref="long.MaxValue"/>,
    /// else <see cref="P2Reply.InvalidSize"/> (<c>"12.5"</c>, <c>12.0</c>, <c>1e3</c>, <c>"-1"</c>,
    /// <c>" 12"</c>, <c>true</c> are all invalid);</item>
    /// <item>DOWNLOAD/VIEW: exactly 1 arg, a string, else <see cref="P2Reply.FilenameFormat"/>.</item>
    /// </list>
    /// </summary>
    /// <param name="text">The text frame's content; null is treated as not JSON.</param>
    /// <returns>The command, or <see cref="Invalid"/> with its error text.</returns>
    public static P2Request Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new Invalid(P2Reply.NotJson);
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            return Command(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // ArgumentException: a string holding a lone surrogate has no UTF-8 form, so it cannot be JSON text.
            return new Invalid(P2Reply.NotJson);
        }
    }

    /// <summary>
    /// The frame a client sends for this command, compact JSON; an <see cref="Upload"/> size is written as a
    /// string of digits, as the legacy client sends it (docs/protocols.md, P2).
    /// </summary>
    /// <returns>The text frame's content.</returns>
    /// <exception cref="InvalidOperationException">For <see cref="Invalid"/>, which is never sent.</exception>
    public string ToJson() => this switch
    {
        Auth a => Render("AUTH", a.User),
        List => Render("LIST"),
        Upload u => Render("UPLOAD", u.Filename, u.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Download d => Render("DOWNLOAD", d.Filename),
        View v => Render("VIEW", v.Filename),
        Disconnect => Render("DISCONNECT"),
        _ => throw new InvalidOperationException("an invalid P2 request is never sent"),
    };

    private static string Render(string cmd, params string[] args)
    {
        var list = new StringBuilder("[");
        for (int i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                list.Append(',');
            }
            P2Json.WriteString(list, args[i]);
        }
        return P2Json.Object().Put("cmd", cmd).PutRaw("args", list.Append(']').ToString()).End();
    }

    private static P2Request Command(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("cmd", out var cmdElement)
            || !TryGetString(cmdElement, out string? cmd))
        {
            return new Invalid(P2Reply.UnknownCommand);
        }
        root.TryGetProperty("args", out var args);
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "AUTH")) return new Auth(Username(args));
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "LIST")) return new List();
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "UPLOAD")) return UploadOf(args);
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "DOWNLOAD")) return FilenameOf(args) is { } d ? new Download(d) : FilenameFormat;
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "VIEW")) return FilenameOf(args) is { } v ? new View(v) : FilenameFormat;
        if (Ascii.EqualsIgnoreAsciiCase(cmd, "DISCONNECT")) return new Disconnect();
        return new Invalid(P2Reply.UnknownCommand);
    }

    private static readonly Invalid FilenameFormat = new(P2Reply.FilenameFormat);

    private static string Username(JsonElement args) =>
        ArgCount(args) > 0 && TryGetString(args[0], out string? name) && !string.IsNullOrWhiteSpace(name)
            ? name
            : "anon";

    private static P2Request UploadOf(JsonElement args)
    {
        if (ArgCount(args) != 2 || !TryGetString(args[0], out string? filename))
        {
            return new Invalid(P2Reply.UploadFormat);
        }
        long size = SizeOf(args[1]);
        return size < 0 ? new Invalid(P2Reply.InvalidSize) : new Upload(filename, size);
    }

    /// <summary>The announced size in bytes, or -1 if it is no non-negative integer that fits a long.</summary>
    private static long SizeOf(JsonElement size)
    {
        switch (size.ValueKind)
        {
            case JsonValueKind.String:
                // The legacy client sends str(os.path.getsize(...)): ASCII digits only.
                return TryGetString(size, out string? digits) ? Ascii.ParseDecimal(digits, long.MaxValue) : -1;
            case JsonValueKind.Number:
                // TryGetInt64 refuses 12.0, 1e3 and anything beyond a long, as the seed's isdigit() check would.
                return size.TryGetInt64(out long value) && value >= 0 ? value : -1;
            default:
                return -1;
        }
    }

    private static string? FilenameOf(JsonElement args) =>
        ArgCount(args) == 1 && TryGetString(args[0], out string? filename) ? filename : null;

    /// <summary>The number of args: missing or null counts as empty, any other non-array as unusable (-1).</summary>
    private static int ArgCount(JsonElement args) => args.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => 0,
        JsonValueKind.Array => args.GetArrayLength(),
        _ => -1,
    };

    /// <summary>
    /// The string value, if it is one. A string escaping a lone surrogate (<c>"\ud800"</c>) is valid JSON that
    /// .NET cannot turn into a string; it counts as "not a string" rather than as an exception.
    /// </summary>
    private static bool TryGetString(JsonElement element, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        try
        {
            value = element.GetString();
            return value is not null;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
