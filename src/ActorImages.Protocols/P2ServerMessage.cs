using System.Text.Json;

namespace ActorImages.Protocols;

/// <summary>
/// One text frame from a P2 server, as a client reads it (docs/protocols.md, P2): an object with an
/// <c>"event"</c> key is an <see cref="Event"/> that may arrive at any time between replies; any other object is
/// the <see cref="Reply"/> to the command in flight. <see cref="Parse"/> never throws.
/// </summary>
public abstract record P2ServerMessage
{
    private P2ServerMessage() { }

    /// <summary>A reply: <c>{"status":…}</c> with whichever of the other fields it carries.</summary>
    /// <param name="Status"><c>SUCCESS</c>, <c>ERROR</c>, <c>READY</c>, <c>SIZE_INFO</c>, <c>BYE</c>; "" if absent.</param>
    /// <param name="Message">The text to show (Portuguese, the seed's), or null.</param>
    /// <param name="Cmd"><c>LIST</c> or <c>UPLOAD_DATA</c>, or null.</param>
    /// <param name="Size">SIZE_INFO's byte count, or null.</param>
    /// <param name="Filename">SIZE_INFO's name to save under, or null.</param>
    /// <param name="Mode">SIZE_INFO's <c>DOWNLOAD</c> or <c>VIEW</c>, or null.</param>
    /// <param name="Files">LIST's rows in upload order; empty for other replies.</param>
    public sealed record Reply(string Status, string? Message, string? Cmd, long? Size, string? Filename,
        string? Mode, IReadOnlyList<P2ListedFile> Files) : P2ServerMessage;

    /// <summary>An event: <c>NEW_UPLOAD</c> with its message, or <c>HISTORY</c> with the messages it replays.</summary>
    /// <param name="Name">The value of <c>"event"</c>.</param>
    /// <param name="Message">NEW_UPLOAD's text, or null.</param>
    /// <param name="History">HISTORY's NEW_UPLOAD texts, oldest first; empty for other events.</param>
    public sealed record Event(string Name, string? Message, IReadOnlyList<string> History) : P2ServerMessage;

    /// <summary>A frame that is not a JSON object: a server bug, or not a P2 server at all.</summary>
    /// <param name="Text">The frame's text, cut to 200 characters for an error line.</param>
    public sealed record Unreadable(string Text) : P2ServerMessage;

    /// <summary>Classifies one text frame from the server.</summary>
    /// <param name="text">The frame's content.</param>
    /// <returns>A <see cref="Reply"/>, an <see cref="Event"/>, or <see cref="Unreadable"/>.</returns>
    public static P2ServerMessage Parse(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Opaque(text);
            }
            if (root.TryGetProperty("event", out var name))
            {
                return new Event(TextOf(name) ?? "", TextOf(root, "message"), HistoryOf(root));
            }
            long? size = root.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number
                && s.TryGetInt64(out long n) ? n : null;
            return new Reply(TextOf(root, "status") ?? "", TextOf(root, "message"), TextOf(root, "cmd"), size,
                TextOf(root, "filename"), TextOf(root, "mode"), FilesOf(root));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return Opaque(text);
        }
    }

    private static Unreadable Opaque(string text) => new(text.Length > 200 ? text[..200] : text);

    private static IReadOnlyList<string> HistoryOf(JsonElement root)
    {
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var messages = new List<string>();
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && TextOf(item, "message") is { } message)
            {
                messages.Add(message);
            }
        }
        return messages;
    }

    private static IReadOnlyList<P2ListedFile> FilesOf(JsonElement root)
    {
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var files = new List<P2ListedFile>();
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object)
            {
                files.Add(new P2ListedFile(TextOf(item, "filename") ?? "", TextOf(item, "uploader") ?? ""));
            }
        }
        return files;
    }

    private static string? TextOf(JsonElement parent, string key) =>
        parent.TryGetProperty(key, out var value) ? TextOf(value) : null;

    private static string? TextOf(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
