using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ActorImages.Cli;

/// <summary>
/// One image to import: where its bytes are, and what the catalog entry keeps of the source (name, uploader,
/// protocol, time). <see cref="Key"/> is stable per source item, so a second import of it is a no-op on the node
/// (<c>importKey</c> of <c>POST /api/images</c>).
/// </summary>
/// <param name="Key">The import key, e.g. <c>seed000:2024-05-01/120000.jpg</c>.</param>
/// <param name="Label">How messages name the item (a path, or the source's md5 and filename).</param>
/// <param name="Filename">The entry's filename.</param>
/// <param name="Uploader">The entry's uploader.</param>
/// <param name="Protocol">The entry's protocol: <c>P1_TCP</c>, <c>P2_WEBSOCKET</c>, <c>HTTP</c> or <c>IMPORT</c>.</param>
/// <param name="ReceivedAt">The source's time of receipt.</param>
/// <param name="LocalPath">The file holding the bytes (seed folders), or null.</param>
/// <param name="SourceMd5">The md5 to fetch from the source cluster (<c>import cluster</c>), or null.</param>
internal sealed record ImportItem(string Key, string Label, string Filename, string Uploader, string Protocol,
    DateTimeOffset ReceivedAt, string? LocalPath, string? SourceMd5);

/// <summary>What a source lists: how many items, what was left out, and the items themselves in chunks, oldest first
/// (the order they are sent in). A chunk is sent whole before the next is read, so a source need not hold every item
/// in memory (<see cref="ClusterSource"/>).</summary>
/// <param name="Count">How many items the chunks hold in all (for progress).</param>
/// <param name="Skipped">What was left out, one line each, for stderr.</param>
/// <param name="Chunks">The items, oldest first; reading a chunk may ask the source again (a
/// <see cref="CliFailure"/> then ends the import as a listing failure would).</param>
internal sealed record ImportListing(int Count, IReadOnlyList<string> Skipped, IAsyncEnumerable<IReadOnlyList<ImportItem>> Chunks)
{
    /// <summary>A listing of one chunk already in memory.</summary>
    /// <param name="items">Every item, oldest first.</param>
    /// <param name="skipped">What was left out.</param>
    /// <returns>The listing.</returns>
    public static ImportListing Of(IReadOnlyList<ImportItem> items, IReadOnlyList<string> skipped) =>
        new(items.Count, skipped, new[] { items }.ToAsyncEnumerable());
}

/// <summary>What an import reads from: it lists the items, then opens each one's bytes as a file.</summary>
internal interface IImportSource
{
    /// <summary>Every item, oldest first (the order they are sent in), in chunks.</summary>
    /// <param name="cancel">Ctrl-C.</param>
    /// <returns>The listing.</returns>
    Task<ImportListing> ListAsync(CancellationToken cancel);

    /// <summary>A file holding <paramref name="item"/>'s bytes, and whether it is a temp file to delete after use.</summary>
    /// <exception cref="CliFailure">Per item: <see cref="Exit.LocalFile"/>, <see cref="Exit.NodeError"/> (the source
    /// cluster has no copy) or <see cref="Exit.Integrity"/>; <see cref="Exit.Connection"/> ends the import.</exception>
    Task<(string Path, bool Temporary)> OpenAsync(ImportItem item, CancellationToken cancel);
}

/// <summary>Converts the seeds' local times (no zone) to instants: in <c>--time-zone</c>, or this machine's zone.</summary>
/// <param name="Zone">The seed server's time zone.</param>
internal sealed record SeedClock(TimeZoneInfo Zone)
{
    /// <summary>The zone named by <paramref name="id"/> (IANA, e.g. <c>America/Sao_Paulo</c>, or <c>UTC</c>), or the local one.</summary>
    /// <exception cref="CliFailure">(<see cref="Exit.Usage"/>) an unknown zone.</exception>
    public static SeedClock Of(string? id)
    {
        if (string.IsNullOrEmpty(id)) return new SeedClock(TimeZoneInfo.Local);
        try
        {
            return new SeedClock(TimeZoneInfo.FindSystemTimeZoneById(id));
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw CliFailure.Usage("unknown time zone: " + id);
        }
    }

    /// <summary>The instant of the wall-clock time <paramref name="local"/> in <see cref="Zone"/>.</summary>
    public DateTimeOffset At(DateTime local)
    {
        var wall = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return new DateTimeOffset(wall, Zone.GetUtcOffset(wall));
    }
}

/// <summary>
/// A seed-000 server's folder (docs/protocols.md, P2 "Seed on-disk layouts"): <c>data/YYYY-MM-DD/HHMMSS.jpg</c> in the
/// server's local time. Each file becomes an entry named <c>HHMMSS.jpg</c>, uploader <c>tcp:import</c>, protocol
/// <c>P1_TCP</c>, received at the path's date and time; its key is <c>seed000:</c> and the path below <c>data/</c>.
/// </summary>
/// <param name="folder">The <c>data/</c> folder, or the server's working folder holding it.</param>
/// <param name="clock">The server's time zone.</param>
internal sealed partial class Seed000Source(string folder, SeedClock clock) : IImportSource
{
    /// <summary>The uploader of every seed-000 image.</summary>
    public const string Uploader = "tcp:import";

    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})/(\d{2})(\d{2})(\d{2})(-\d+)?\.[A-Za-z]{3,4}$")]
    private static partial Regex SeedPath();

    /// <inheritdoc />
    public Task<ImportListing> ListAsync(CancellationToken cancel)
    {
        if (!Directory.Exists(folder)) throw CliFailure.LocalFile("no such folder: " + folder);
        string data = Directory.Exists(Path.Combine(folder, "data")) ? Path.Combine(folder, "data") : folder;
        var items = new List<ImportItem>();
        var skipped = new List<string>();
        List<string> files;
        try
        {
            files = Directory.EnumerateFiles(data, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read folder: {data} ({e.Message})", e);
        }
        foreach (string file in files)
        {
            string relative = Path.GetRelativePath(data, file).Replace('\\', '/');
            if (At(relative) is not { } at)
            {
                skipped.Add($"skipped {file}: not data/YYYY-MM-DD/HHMMSS.jpg");
                continue;
            }
            items.Add(new ImportItem("seed000:" + relative, file, Path.GetFileName(relative), Uploader, "P1_TCP", at, file, null));
        }
        // Path order is time order; the same second's -n files after the first.
        return Task.FromResult(ImportListing.Of(items, skipped));
    }

    /// <summary>The receipt time a seed-000 path <c>YYYY-MM-DD/HHMMSS.ext</c> names, or null if it names none.</summary>
    public DateTimeOffset? At(string relative)
    {
        var m = SeedPath().Match(relative);
        if (!m.Success) return null;
        int N(int group) => int.Parse(m.Groups[group].ValueSpan, CultureInfo.InvariantCulture);
        try
        {
            return clock.At(new DateTime(N(1), N(2), N(3), N(4), N(5), N(6), DateTimeKind.Unspecified));
        }
        catch (ArgumentOutOfRangeException)
        {
            return null; // 2024-02-30, 256100
        }
    }

    /// <inheritdoc />
    public Task<(string Path, bool Temporary)> OpenAsync(ImportItem item, CancellationToken cancel) =>
        Task.FromResult((item.LocalPath!, false));
}

/// <summary>
/// A seed-001 server's working folder (docs/protocols.md, P2 "Seed on-disk layouts"): <c>metadata.json</c>, an array
/// in upload order of <c>{id, filename, uploader, path, timestamp}</c>, and the files under <c>imagens/</c>. Each
/// record becomes an entry with its filename and uploader, protocol <c>P2_WEBSOCKET</c>, received at its timestamp
/// (local time of the server unless it names a zone); its key is <c>seed001:&lt;id&gt;:&lt;filename&gt;</c>.
/// </summary>
/// <param name="folder">The folder holding <c>metadata.json</c>.</param>
/// <param name="clock">The server's time zone.</param>
internal sealed partial class Seed001Source(string folder, SeedClock clock) : IImportSource
{
    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex ZoneSuffix();

    /// <inheritdoc />
    public Task<ImportListing> ListAsync(CancellationToken cancel)
    {
        string metadata = Path.Combine(folder, "metadata.json");
        if (!File.Exists(metadata)) throw CliFailure.LocalFile("no metadata.json in: " + folder);
        JsonElement records;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(metadata));
            records = json.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {metadata} ({e.Message})", e);
        }
        catch (JsonException e)
        {
            throw CliFailure.LocalFile($"not JSON: {metadata} ({e.Message})", e);
        }
        if (records.ValueKind != JsonValueKind.Array) throw CliFailure.LocalFile("not a JSON array: " + metadata);
        var items = new List<ImportItem>();
        var skipped = new List<string>();
        int index = 0;
        foreach (var record in records.EnumerateArray())
        {
            index++;
            string? id = Scalar(record, "id");
            string? filename = Scalar(record, "filename");
            if (id is null || string.IsNullOrEmpty(filename))
            {
                skipped.Add($"skipped record {index} of {metadata}: no id or filename");
                continue;
            }
            string label = $"{metadata} id {id} ({filename})";
            if (Time(Scalar(record, "timestamp")) is not { } at)
            {
                skipped.Add($"skipped {label}: no ISO-8601 timestamp");
                continue;
            }
            string uploader = Scalar(record, "uploader") is { Length: > 0 } u ? u : "anon";
            items.Add(new ImportItem($"seed001:{id}:{filename}", label, filename, uploader, "P2_WEBSOCKET", at,
                ImageFile(Scalar(record, "path"), id, filename), null));
        }
        return Task.FromResult(ImportListing.Of(items, skipped));
    }

    /// <summary>The record's <c>path</c> if it stays inside the folder, else <c>imagens/&lt;id&gt;_&lt;filename&gt;</c>.</summary>
    private string ImageFile(string? path, string id, string filename)
    {
        string root = Path.GetFullPath(folder);
        if (!string.IsNullOrEmpty(path))
        {
            string full = Path.GetFullPath(Path.Combine(root, path));
            if (full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                && System.IO.File.Exists(full))
            {
                return full;
            }
        }
        return Path.Combine(root, "imagens", id + "_" + Path.GetFileName(filename.Replace('\\', '/')));
    }

    /// <summary>An ISO-8601 time: with a zone as given, without one in the server's zone.</summary>
    public DateTimeOffset? Time(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        if (ZoneSuffix().IsMatch(text))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var zoned) ? zoned : null;
        }
        return DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local) ? clock.At(local) : null;
    }

    private static string? Scalar(JsonElement record, string key) =>
        record.ValueKind == JsonValueKind.Object && record.TryGetProperty(key, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    /// <inheritdoc />
    public Task<(string Path, bool Temporary)> OpenAsync(ImportItem item, CancellationToken cancel)
    {
        if (!System.IO.File.Exists(item.LocalPath)) throw CliFailure.LocalFile($"{item.Label}: no such file: {item.LocalPath}");
        return Task.FromResult((item.LocalPath!, false));
    }
}

/// <summary>
/// Another ActorImages cluster (C# or Java) through its HTTP API: <c>GET /api/images</c> pages (newest first, cursors
/// by id, so a page read again by its cursor holds the same entries but those deleted meanwhile) and
/// <c>GET /api/images/{md5}/content</c>. The pages are walked to the end once, keeping of each page only its cursor, and
/// of each entry a 64-bit hash of its key with the page it was first seen on (the newest page whole): about 30 bytes
/// per entry, where whole items took half a kilobyte. They are then read again by their cursors, oldest page first,
/// each a chunk sent oldest first; of a page read again only the entries the walk saw first on it count (one deleted
/// meanwhile lets an older entry onto the page). Each entry keeps its filename, uploader, protocol and receivedAt; its
/// key is <c>cluster:&lt;md5&gt;:&lt;id&gt;</c>. The bytes go through a temp file and must hash to the entry's md5.
/// </summary>
internal sealed class ClusterSource : IImportSource, IDisposable
{
    private readonly Uri _base;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Endpoint _endpoint;
    /// <summary>The page size asked for, until a source refuses it (then its default pages).</summary>
    private string _limit = "limit=500&";

    /// <summary>A source at <paramref name="url"/>: <c>http://host:8080</c>, or <c>host[:port]</c> (port 8080).</summary>
    /// <exception cref="CliFailure">(<see cref="Exit.Usage"/>) not an http(s) URL.</exception>
    public ClusterSource(string url, TimeSpan timeout)
    {
        string text = url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw CliFailure.Usage("not an http URL: " + url);
        }
        if (!url.Contains("://", StringComparison.Ordinal) && uri.IsDefaultPort) uri = new UriBuilder(uri) { Port = 8080 }.Uri;
        _base = new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
        _timeout = timeout;
        _endpoint = new Endpoint(uri.Host, uri.Port);
    }

    /// <summary>The source's base URL, ending in <c>/</c>.</summary>
    public Uri Base => _base;

    /// <inheritdoc />
    public async Task<ImportListing> ListAsync(CancellationToken cancel)
    {
        var cursors = new List<string?>(); // of the pages, newest first
        var pageOf = new Dictionary<long, int>(); // key hash → the page the walk saw it on first
        IReadOnlyList<ImportItem> newest = [];
        var skipped = new List<string>();
        string? cursor = null;
        while (true)
        {
            var (items, next) = await PageAsync(cursor, skipped, cancel);
            var fresh = items.Where(i => pageOf.TryAdd(KeyHash(i.Key), cursors.Count)).ToList();
            if (cursors.Count == 0) newest = fresh;
            cursors.Add(cursor);
            cursor = next;
            if (cursor is null || items.Count == 0) break;
        }
        return new ImportListing(pageOf.Count, skipped, ChunksAsync(cursors, pageOf, newest, cancel));
    }

    /// <summary>The pages of the walk, oldest first, each read again by its cursor (but the newest, kept whole) and sent
    /// oldest first.</summary>
    private async IAsyncEnumerable<IReadOnlyList<ImportItem>> ChunksAsync(List<string?> cursors, Dictionary<long, int> pageOf,
        IReadOnlyList<ImportItem> newest, [EnumeratorCancellation] CancellationToken cancel)
    {
        for (int p = cursors.Count - 1; p >= 0; p--)
        {
            var items = p == 0 ? newest : (await PageAsync(cursors[p], null, cancel)).Items
                .Where(i => pageOf.TryGetValue(KeyHash(i.Key), out var first) && first == p).ToList();
            if (items.Count > 0) yield return items.Reverse().ToList();
        }
    }

    /// <summary>One page of <c>GET /api/images</c>, newest first: its items and the cursor of the next page (null at the
    /// end). Entries without md5, id or receivedAt are left out, each with a line in <paramref name="skipped"/> when given.</summary>
    private async Task<(IReadOnlyList<ImportItem> Items, string? Next)> PageAsync(string? cursor, List<string>? skipped, CancellationToken cancel)
    {
        while (true)
        {
            string path = "api/images?" + _limit + (cursor is null ? "" : "after=" + Uri.EscapeDataString(cursor));
            var (status, body) = await GetAsync(path.TrimEnd('&', '?'), cancel);
            if (status == HttpStatusCode.BadRequest && _limit.Length > 0 && cursor is null)
            {
                _limit = ""; // a source with a smaller max-page-size: its default pages
                continue;
            }
            if (status != HttpStatusCode.OK) throw CliFailure.Node($"{_base}{path}: {(int)status} {ErrorText(body)}".TrimEnd());
            JsonElement page;
            try
            {
                using var json = JsonDocument.Parse(body);
                page = json.RootElement.Clone();
            }
            catch (JsonException)
            {
                throw CliFailure.Node($"{_base}{path}: the answer is not JSON");
            }
            if (page.ValueKind != JsonValueKind.Object || !page.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array)
            {
                throw CliFailure.Node($"{_base}{path}: no \"images\" array in the answer");
            }
            var items = new List<ImportItem>();
            foreach (var image in images.EnumerateArray())
            {
                if (Item(image) is { } item) items.Add(item);
                else skipped?.Add($"skipped an entry of {_base} without md5, id or receivedAt: {image.GetRawText()}");
            }
            string? next = page.TryGetProperty("next", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            return (items, next);
        }
    }

    /// <summary>A 64-bit hash of an import key (the first 8 bytes of its MD5): what the walk keeps of each entry.</summary>
    private static long KeyHash(string key) => BinaryPrimitives.ReadInt64LittleEndian(MD5.HashData(Encoding.UTF8.GetBytes(key)));

    private ImportItem? Item(JsonElement image)
    {
        string? Text(string key) => image.ValueKind == JsonValueKind.Object && image.TryGetProperty(key, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null } : null;
        string? md5 = Text("md5")?.ToLowerInvariant(), id = Text("id"), at = Text("receivedAt");
        if (md5 is null || !Protocols.P4Request.IsMd5(md5) || string.IsNullOrEmpty(id)
            || !DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var receivedAt))
        {
            return null;
        }
        string protocol = Text("protocol") is "P1_TCP" or "P2_WEBSOCKET" or "HTTP" or "IMPORT" ? Text("protocol")! : "IMPORT";
        string filename = Text("filename") is { Length: > 0 } f ? f : md5;
        string uploader = Text("uploader") is { Length: > 0 } u ? u : "anon";
        return new ImportItem($"cluster:{md5}:{id}", $"{md5} ({filename})", filename, uploader, protocol, receivedAt, null, md5);
    }

    /// <inheritdoc />
    public async Task<(string Path, bool Temporary)> OpenAsync(ImportItem item, CancellationToken cancel)
    {
        string path = $"api/images/{item.SourceMd5}/content";
        string temp = Path.Combine(Path.GetTempPath(), $"actorimages-import-{Guid.NewGuid():N}.part");
        FileStream file;
        try
        {
            file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot write a temp file: {temp} ({e.Message})", e);
        }
        try
        {
            string md5;
            await using (file)
            {
                // --timeout bounds the wait for the next bytes, not the whole image: a large one on a slow link goes on.
                md5 = await Net.WithIdleTimeout(_timeout, cancel, async (t, moved) =>
                {
                    using var response = await _http.GetAsync(new Uri(_base, path), HttpCompletionOption.ResponseHeadersRead, t);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw CliFailure.Node($"{item.Label}: {_base}{path}: {(int)response.StatusCode} "
                            + ErrorText(await response.Content.ReadAsStringAsync(t)));
                    }
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                    await using var body = await response.Content.ReadAsStreamAsync(t);
                    var buffer = new byte[81920];
                    int n;
                    while ((n = await body.ReadAsync(buffer, t)) > 0)
                    {
                        moved();
                        hash.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer.AsMemory(0, n), t);
                    }
                    return Convert.ToHexStringLower(hash.GetHashAndReset());
                });
            }
            if (md5 != item.SourceMd5) throw CliFailure.Integrity($"{item.Label}: the source sent bytes with md5 {md5}");
            return (temp, true);
        }
        catch (Exception e)
        {
            File.Delete(temp);
            if (e is CliFailure || cancel.IsCancellationRequested) throw;
            throw _endpoint.Failure(e);
        }
    }

    private async Task<(HttpStatusCode, string)> GetAsync(string path, CancellationToken cancel)
    {
        try
        {
            return await Net.WithTimeout(_timeout, cancel, async t =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, path));
                request.Headers.Accept.ParseAdd("application/json");
                using var response = await _http.SendAsync(request, t);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(t));
            });
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            throw _endpoint.Failure(e);
        }
    }

    /// <summary>The <c>error</c> text of a node's error answer, else the body.</summary>
    public static string ErrorText(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var text)
                && text.ValueKind == JsonValueKind.String)
            {
                return text.GetString()!;
            }
        }
        catch (JsonException)
        {
            // not the node's JSON: the body as it is
        }
        return body.Length > 200 ? body[..200] : body;
    }

    /// <summary>Closes the HTTP client.</summary>
    public void Dispose() => _http.Dispose();
}
