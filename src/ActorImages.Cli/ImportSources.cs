using System.Globalization;
using System.Net;
using System.Security.Cryptography;
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

/// <summary>What an import reads from: it lists the items, then opens each one's bytes as a file.</summary>
internal interface IImportSource
{
    /// <summary>Every item, oldest first (the order they are sent in).</summary>
    /// <param name="cancel">Ctrl-C.</param>
    /// <returns>The items, and what was left out (one line each, for stderr).</returns>
    Task<(IReadOnlyList<ImportItem> Items, IReadOnlyList<string> Skipped)> ListAsync(CancellationToken cancel);

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
    public Task<(IReadOnlyList<ImportItem> Items, IReadOnlyList<string> Skipped)> ListAsync(CancellationToken cancel)
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
        return Task.FromResult<(IReadOnlyList<ImportItem>, IReadOnlyList<string>)>((items, skipped));
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
    public Task<(IReadOnlyList<ImportItem> Items, IReadOnlyList<string> Skipped)> ListAsync(CancellationToken cancel)
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
        return Task.FromResult<(IReadOnlyList<ImportItem>, IReadOnlyList<string>)>((items, skipped));
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
/// Another ActorImages cluster (C# or Java) through its HTTP API: <c>GET /api/images</c> pages (newest first, walked
/// to the end and sent oldest first) and <c>GET /api/images/{md5}/content</c>. Each entry keeps its filename,
/// uploader, protocol and receivedAt; its key is <c>cluster:&lt;md5&gt;:&lt;id&gt;</c>. The bytes go through a temp file
/// and must hash to the entry's md5.
/// </summary>
internal sealed class ClusterSource : IImportSource, IDisposable
{
    private readonly Uri _base;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Endpoint _endpoint;

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
    public async Task<(IReadOnlyList<ImportItem> Items, IReadOnlyList<string> Skipped)> ListAsync(CancellationToken cancel)
    {
        var newestFirst = new List<ImportItem>();
        var skipped = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        string limit = "limit=500&";
        while (true)
        {
            string path = "api/images?" + limit + (cursor is null ? "" : "after=" + Uri.EscapeDataString(cursor));
            var (status, body) = await GetAsync(path.TrimEnd('&', '?'), cancel);
            if (status == HttpStatusCode.BadRequest && limit.Length > 0 && cursor is null)
            {
                limit = ""; // a source with a smaller max-page-size: its default pages
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
            foreach (var image in images.EnumerateArray())
            {
                if (Item(image) is { } item)
                {
                    if (seen.Add(item.Key)) newestFirst.Add(item);
                }
                else
                {
                    skipped.Add($"skipped an entry of {_base} without md5, id or receivedAt: {image.GetRawText()}");
                }
            }
            cursor = page.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (cursor is null || images.GetArrayLength() == 0) break;
        }
        newestFirst.Reverse();
        return (newestFirst, skipped);
    }

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
