using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ActorImages.Cli;

/// <summary>What an import did: one count per outcome, and the first failure (its exit code is the import's).</summary>
/// <param name="Imported">New entries.</param>
/// <param name="AlreadyThere">Items whose key the node had before this run.</param>
/// <param name="Failed">Items not imported.</param>
/// <param name="FirstFailure">The first failure, or null.</param>
internal sealed record ImportSummary(int Imported, int AlreadyThere, int Failed, CliFailure? FirstFailure)
{
    /// <summary><c>imported N, already there M, failed K</c>.</summary>
    public override string ToString() => $"imported {Imported}, already there {AlreadyThere}, failed {Failed}";
}

/// <summary>
/// Sends import items to one node: <c>POST /api/images?filename=&amp;uploader=&amp;receivedAt=&amp;importKey=&amp;protocol=</c>
/// with the raw bytes and the admin token. The node stores an import key once and answers a repeat with the entry
/// it already has, so an item counts as "already there" when the entry it gets back is older than the newest entry
/// the catalog had when the run began (ids are the catalog's commit order). Items go oldest first, a few at a time,
/// and items of the same filename strictly one after the other (<c>--parallel 1</c> keeps the source's order exactly).
/// A refused item (400, 413; 503 after retries), a missing file or bytes of another md5 is counted and reported,
/// and the others still go; a node that cannot be reached or refuses the token ends the run.
/// </summary>
internal sealed class Importer : IDisposable
{
    private static readonly TimeSpan[] Retries = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    /// <summary>The slowest upload an import waits for, in bytes/s (64 KiB/s), on top of <c>--timeout</c>: the client
    /// cannot see the node's reads, only its own writes into the socket's buffer, so the limit of one upload is set by
    /// its size rather than re-armed by progress.</summary>
    private const double MinUploadRate = 64 * 1024;

    private readonly Endpoint _node;
    private readonly string _token;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>An importer into the node at <paramref name="node"/> (its HTTP port).</summary>
    public Importer(Endpoint node, string token, TimeSpan timeout)
    {
        _node = node;
        _token = token;
        _timeout = timeout;
    }

    /// <summary>The admin token: <paramref name="given"/>, else <c>$ACTORIMAGES_ADMIN_TOKEN</c>, else <c>run/admin-token</c>.</summary>
    /// <exception cref="CliFailure">(<see cref="Exit.Usage"/>) none of them.</exception>
    public static string Token(string? given)
    {
        if (!string.IsNullOrWhiteSpace(given)) return given.Trim();
        if (Environment.GetEnvironmentVariable("ACTORIMAGES_ADMIN_TOKEN") is { Length: > 0 } env) return env.Trim();
        foreach (string file in new[] { Path.Combine("run", "admin-token"), Path.Combine(AppContext.BaseDirectory, "..", "admin-token") })
        {
            try
            {
                if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } token) return token;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliFailure.LocalFile($"cannot read: {file} ({e.Message})", e);
            }
        }
        throw CliFailure.Usage("an import needs the node's admin token: --token, $ACTORIMAGES_ADMIN_TOKEN or run/admin-token");
    }

    /// <summary>The id of the newest entry in the node's catalog (0 if empty): what "already there" is measured against.</summary>
    public async Task<long> NewestIdAsync(CancellationToken cancel)
    {
        var (status, body) = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url("/api/images?limit=1")), cancel);
        if (status != HttpStatusCode.OK) throw CliFailure.Node($"{_node} GET /api/images: {(int)status} {ClusterSource.ErrorText(body)}".TrimEnd());
        try
        {
            using var json = JsonDocument.Parse(body);
            foreach (var image in json.RootElement.GetProperty("images").EnumerateArray())
            {
                return Id(image) ?? 0;
            }
            return 0;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw CliFailure.Node($"{_node} GET /api/images: not the catalog's JSON");
        }
    }

    /// <summary>Imports the items of <paramref name="listing"/> from <paramref name="source"/>, <paramref name="parallel"/>
    /// at a time, one chunk after the other.</summary>
    /// <param name="source">Opens each item's bytes.</param>
    /// <param name="listing">The items, oldest first, in chunks.</param>
    /// <param name="parallel">Uploads in flight at once, ≥ 1.</param>
    /// <param name="output">Where failures (stderr) and, with <c>--verbose</c>, a line per item go.</param>
    /// <param name="step">Called once per item done.</param>
    /// <param name="cancel">Ctrl-C.</param>
    /// <returns>The counts; a connection failure or a refused token throws after <paramref name="output"/> got the
    /// counts so far.</returns>
    public async Task<ImportSummary> RunAsync(IImportSource source, ImportListing listing, int parallel, Output output,
        Action step, CancellationToken cancel)
    {
        long newest = await NewestIdAsync(cancel);
        int imported = 0, already = 0, failed = 0;
        CliFailure? first = null;
        var order = new object();
        try
        {
            await foreach (var chunk in listing.Chunks.WithCancellation(cancel)) await ChunkAsync(chunk);
        }
        catch (CliFailure)
        {
            output.Out.WriteLine(new ImportSummary(imported, already, failed, first));
            throw;
        }
        return new ImportSummary(imported, already, failed, first);

        // A chunk is done before the next starts, so the order of one name's entries holds across chunks too.
        async Task ChunkAsync(IReadOnlyList<ImportItem> items)
        {
            // An item waits for the one before it of the same filename: where several entries share a name, the node
            // serves the oldest (lowest id), so their order must survive the parallel uploads.
            var done = items.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
            var previous = new int[items.Count];
            var lastOfName = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < items.Count; i++)
            {
                string name = Path.GetFileName(items[i].Filename.Replace('\\', '/')); // as the node stores it
                previous[i] = lastOfName.GetValueOrDefault(name, -1);
                lastOfName[name] = i;
            }
            await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancel },
                async (i, ct) =>
                {
                    var item = items[i];
                    try
                    {
                        if (previous[i] >= 0) await done[previous[i]].Task.WaitAsync(ct);
                        long id = await ImportAsync(source, item, ct);
                        bool was = id > 0 && id <= newest;
                        lock (order)
                        {
                            if (was) already++;
                            else imported++;
                        }
                        output.Detail($"{(was ? "already there" : "imported")}: {item.Label} ({item.Key})");
                    }
                    catch (CliFailure e) when (e.ExitCode is Exit.NodeError or Exit.LocalFile or Exit.Integrity && !IsFatal(e))
                    {
                        lock (order)
                        {
                            failed++;
                            first ??= e;
                            output.Err.WriteLine("actorimages: " + e.Message);
                        }
                    }
                    finally
                    {
                        done[i].TrySetResult();
                    }
                    lock (order) step();
                });
        }
    }

    private static bool IsFatal(CliFailure e) => e.Data.Contains(nameof(IsFatal));

    /// <returns>The id of the entry the node answered with (0 if it has none that parses).</returns>
    private async Task<long> ImportAsync(IImportSource source, ImportItem item, CancellationToken cancel)
    {
        var (path, temporary) = await source.OpenAsync(item, cancel);
        try
        {
            string query = "/api/images?filename=" + Uri.EscapeDataString(item.Filename)
                + "&uploader=" + Uri.EscapeDataString(item.Uploader)
                + "&receivedAt=" + Uri.EscapeDataString(item.ReceivedAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture))
                + "&importKey=" + Uri.EscapeDataString(item.Key)
                + "&protocol=" + Uri.EscapeDataString(item.Protocol);
            for (int attempt = 0; ; attempt++)
            {
                // --timeout bounds the wait for an answer, and an image takes as long as its bytes need on a slow link:
                // the upload may take the timeout plus its size at MinUploadRate (a 64 MiB image: 17 min more).
                var limit = _timeout + TimeSpan.FromSeconds((double)new FileInfo(path).Length / MinUploadRate);
                var (status, body) = await SendAsync(limit, () =>
                {
                    FileStream file;
                    try
                    {
                        file = File.OpenRead(path);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw CliFailure.LocalFile($"{item.Label}: cannot read: {path} ({e.Message})", e);
                    }
                    var request = new HttpRequestMessage(HttpMethod.Post, Url(query)) { Content = new StreamContent(file) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    request.Content.Headers.ContentLength = file.Length;
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
                    request.Headers.Accept.ParseAdd("application/json");
                    return request;
                }, cancel);
                if (status is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    try
                    {
                        using var json = JsonDocument.Parse(body);
                        return Id(json.RootElement) ?? 0;
                    }
                    catch (JsonException)
                    {
                        return 0;
                    }
                }
                string error = $"{item.Label}: {_node} POST /api/images: {(int)status} {ClusterSource.ErrorText(body)}".TrimEnd();
                if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    var fatal = CliFailure.Node(error + " (the node's admin token: --token)");
                    fatal.Data[nameof(IsFatal)] = true;
                    throw fatal;
                }
                if (status == HttpStatusCode.ServiceUnavailable && attempt < Retries.Length)
                {
                    await Task.Delay(Retries[attempt], cancel);
                    continue;
                }
                throw CliFailure.Node(error);
            }
        }
        finally
        {
            if (temporary) File.Delete(path);
        }
    }

    private Uri Url(string pathAndQuery) => new($"http://{_node}{pathAndQuery}");

    private Task<(HttpStatusCode, string)> SendAsync(Func<HttpRequestMessage> make, CancellationToken cancel) =>
        SendAsync(_timeout, make, cancel);

    private async Task<(HttpStatusCode, string)> SendAsync(TimeSpan limit, Func<HttpRequestMessage> make, CancellationToken cancel)
    {
        try
        {
            return await Net.WithTimeout(limit, cancel, async t =>
            {
                using var request = make();
                using var response = await _http.SendAsync(request, t);
                return (response.StatusCode, await response.Content.ReadAsStringAsync(t));
            });
        }
        catch (Exception e) when (e is not CliFailure && !cancel.IsCancellationRequested)
        {
            var failure = _node.Failure(e);
            failure.Data[nameof(IsFatal)] = true;
            throw failure;
        }
    }

    private static long? Id(JsonElement entry) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("id", out var id)
            && long.TryParse(id.ValueKind == JsonValueKind.String ? id.GetString() : id.GetRawText(), NumberStyles.None, CultureInfo.InvariantCulture, out long n)
            ? n : null;

    /// <summary>Closes the HTTP client.</summary>
    public void Dispose() => _http.Dispose();
}
