using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace ActorImages.Cli.Tests;

/// import seed000, seed001 and cluster against an HTTP listener of the test that records every request and keeps
/// the node's import-key rule (a key it has seen answers with the entry it already has); no node needed.
public class ImportTests
{
    private const string Token = "s3cret-token";

    [Fact]
    public async Task Seed000FilesKeepTheirNameAndThePathsTimeAndASecondRunImportsNothing()
    {
        using var node = new RecordingNode();
        using var folder = Cli.TempFolder();
        byte[] rocket = Cli.Image("rocket.jpg"), chelsea = Cli.Image("chelsea.png");
        Write(folder, "data/2024-05-01/235959.jpg", rocket);
        Write(folder, "data/2024-05-02/000102.jpg", chelsea);
        Write(folder, "data/notes.txt", "not an image"u8.ToArray());
        Write(folder, "data/2024-02-30/120000.jpg", rocket); // no such day

        var first = await Import(node, "seed000", folder.Path, "--time-zone", "America/Sao_Paulo");
        Assert.True(first.Code == Exit.Ok, first.ToString());
        Assert.Equal("imported 2, already there 0, failed 0", first.Out.Trim());
        Assert.Contains("notes.txt: not data/YYYY-MM-DD/HHMMSS.jpg", first.Err);
        Assert.Contains("2024-02-30", first.Err);

        var posts = node.Posts;
        Assert.Equal(2, posts.Count);
        var a = posts.Single(p => p.Query["importKey"] == "seed000:2024-05-01/235959.jpg");
        Assert.Equal("235959.jpg", a.Query["filename"]);
        Assert.Equal("tcp:import", a.Query["uploader"]);
        Assert.Equal("P1_TCP", a.Query["protocol"]);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 23, 59, 59, TimeSpan.FromHours(-3)), DateTimeOffset.Parse(a.Query["receivedAt"], CultureInfo.InvariantCulture));
        Assert.Equal("Bearer " + Token, a.Authorization);
        Assert.Equal(rocket, a.Body);
        var b = posts.Single(p => p.Query["importKey"] == "seed000:2024-05-02/000102.jpg");
        Assert.Equal(chelsea, b.Body);
        Assert.Equal("2024-05-02T03:01:02.0000000Z", b.Query["receivedAt"]);

        // Given the data/ folder itself, the keys are the same: nothing new.
        var again = await Import(node, "seed000", Path.Combine(folder.Path, "data"), "--time-zone", "America/Sao_Paulo");
        Assert.True(again.Code == Exit.Ok, again.ToString());
        Assert.Equal("imported 0, already there 2, failed 0", again.Out.Trim());
        Assert.Equal(2, node.Entries);
        Assert.Equal(posts.Select(p => p.Query["importKey"]).Order(), node.Posts.Skip(2).Select(p => p.Query["importKey"]).Order());
    }

    [Fact]
    public async Task Seed001RecordsKeepFilenameUploaderAndTimestampAndAMissingFileIsExitCode4()
    {
        using var node = new RecordingNode();
        using var folder = Cli.TempFolder();
        byte[] rocket = Cli.Image("rocket.jpg"), coffee = Cli.Image("coffee.png");
        Write(folder, "imagens/1_foto praia.jpg", rocket);
        Write(folder, "imagens/thumb_1_foto praia.jpg", Cli.Image("rocket-cmyk.jpg"));
        Write(folder, "imagens/2_café.png", coffee);
        Write(folder, "metadata.json", Encoding.UTF8.GetBytes("""
            [
              {"id": 1, "filename": "foto praia.jpg", "uploader": "ana", "path": "imagens/1_foto praia.jpg", "thumb_path": "imagens/thumb_1_foto praia.jpg", "timestamp": "2024-05-01T10:11:12.345678"},
              {"id": 2, "filename": "café.png", "uploader": "joão", "path": "imagens/2_café.png", "thumb_path": "imagens/thumb_2_café.png", "timestamp": "2024-05-01T10:15:00"},
              {"id": 3, "filename": "gone.jpg", "uploader": "ana", "path": "imagens/3_gone.jpg", "thumb_path": "imagens/thumb_3_gone.jpg", "timestamp": "2024-05-01T11:00:00"}
            ]
            """));

        var first = await Import(node, "seed001", folder.Path, "--time-zone", "UTC", "--parallel", "1");
        Assert.True(first.Code == Exit.LocalFile, first.ToString());
        Assert.Equal("imported 2, already there 0, failed 1", first.Out.Trim());
        Assert.Contains("3_gone.jpg", first.Err);

        var posts = node.Posts;
        Assert.Equal(["seed001:1:foto praia.jpg", "seed001:2:café.png"], posts.Select(p => p.Query["importKey"]));
        Assert.Equal(["foto praia.jpg", "café.png"], posts.Select(p => p.Query["filename"]));
        Assert.Equal(["ana", "joão"], posts.Select(p => p.Query["uploader"]));
        Assert.All(posts, p => Assert.Equal("P2_WEBSOCKET", p.Query["protocol"]));
        Assert.Equal("2024-05-01T10:11:12.3456780Z", posts[0].Query["receivedAt"]);
        Assert.Equal(rocket, posts[0].Body);
        Assert.Equal(coffee, posts[1].Body);

        Write(folder, "imagens/3_gone.jpg", Cli.Image("rocket-progressive.jpg"));
        var again = await Import(node, "seed001", folder.Path, "--time-zone", "UTC");
        Assert.True(again.Code == Exit.Ok, again.ToString());
        Assert.Equal("imported 1, already there 2, failed 0", again.Out.Trim());
        Assert.Equal(3, node.Entries);
    }

    [Fact]
    public async Task AClusterIsWalkedPageByPageAndImportedOldestFirstWithItsOwnFieldsAndCheckedBytes()
    {
        byte[] rocket = Cli.Image("rocket.jpg"), chelsea = Cli.Image("chelsea.png"), gif = Cli.Image("chelsea-animated.gif");
        using var source = new SourceCluster(
        [
            new("7", rocket, "rocket.jpg", "tcp:10.0.0.9", "P1_TCP", "2026-11-20T08:00:00Z"),
            new("8", chelsea, "gato.png", "maria", "P2_WEBSOCKET", "2026-11-20T09:00:00.5Z"),
            new("md5-1", rocket, "again.jpg", "http:10.0.0.3", "HTTP", "2026-11-21T10:00:00Z"), // Java ids are not numbers
            new("9", gif, "anim.gif", "pedro", "P2_WEBSOCKET", "2026-11-22T10:00:00Z"),
        ], pageSize: 3);
        using var node = new RecordingNode();

        var first = await Import(node, "cluster", $"http://127.0.0.1:{source.Port}", "--parallel", "1");
        Assert.True(first.Code == Exit.Ok, first.ToString());
        Assert.Equal("imported 4, already there 0, failed 0", first.Out.Trim());
        Assert.Equal(["/api/images?limit=500", "/api/images?limit=500&after=8"], source.Listings.Take(2));

        var posts = node.Posts;
        Assert.Equal(["rocket.jpg", "gato.png", "again.jpg", "anim.gif"], posts.Select(p => p.Query["filename"]));
        Assert.Equal([$"cluster:{Cli.Md5(rocket)}:7", $"cluster:{Cli.Md5(chelsea)}:8", $"cluster:{Cli.Md5(rocket)}:md5-1", $"cluster:{Cli.Md5(gif)}:9"],
            posts.Select(p => p.Query["importKey"]));
        Assert.Equal(["P1_TCP", "P2_WEBSOCKET", "HTTP", "P2_WEBSOCKET"], posts.Select(p => p.Query["protocol"]));
        Assert.Equal(["tcp:10.0.0.9", "maria", "http:10.0.0.3", "pedro"], posts.Select(p => p.Query["uploader"]));
        Assert.Equal("2026-11-20T09:00:00.5000000Z", posts[1].Query["receivedAt"]);
        Assert.Equal(chelsea, posts[1].Body);
        Assert.Equal(gif, posts[3].Body);

        var again = await Import(node, "cluster", $"127.0.0.1:{source.Port}");
        Assert.True(again.Code == Exit.Ok, again.ToString());
        Assert.Equal("imported 0, already there 4, failed 0", again.Out.Trim());
        Assert.Equal(4, node.Entries);

        source.Corrupt = true; // bytes that do not hash to the listed md5 are never posted
        using var other = new RecordingNode();
        var corrupt = await Import(other, "cluster", $"http://127.0.0.1:{source.Port}");
        Assert.True(corrupt.Code == Exit.Integrity, corrupt.ToString());
        Assert.Equal("imported 0, already there 0, failed 4", corrupt.Out.Trim());
        Assert.Empty(other.Posts);
    }

    [Fact]
    public async Task AClusterIsReadAgainPageByPageOldestFirstAndAnEntryDeletedMeanwhileBringsNoOtherTwice()
    {
        // Seven entries in pages of two. The walk keeps of each page its cursor and its keys' hashes (the newest page
        // whole), then reads the pages again, oldest first; "e", deleted between the walk and its page's second read,
        // lets "c" onto that page, which was sent with its own page already.
        var names = new[] { "a", "b", "c", "d", "e", "f", "g" };
        byte[] rocket = Cli.Image("rocket.jpg");
        using var source = new SourceCluster(
            names.Select((n, i) => new SourceCluster.Entry(n, [.. rocket, (byte)i], n + ".jpg", "u", "HTTP", $"2026-11-2{i}T08:00:00Z")).ToArray(),
            pageSize: 2) { DeleteAfter = (4, "e") };
        using var node = new RecordingNode();

        var run = await Import(node, "cluster", $"http://127.0.0.1:{source.Port}", "--parallel", "4");
        Assert.True(run.Code == Exit.Ok, run.ToString());
        Assert.Equal("imported 6, already there 0, failed 0", run.Out.Trim());
        Assert.Equal(["a.jpg", "b.jpg", "c.jpg", "d.jpg", "f.jpg", "g.jpg"], node.Posts.Select(p => p.Query["filename"]).Order());
        Assert.Equal(
            ["/api/images?limit=500", "/api/images?limit=500&after=f", "/api/images?limit=500&after=d", "/api/images?limit=500&after=b",
             "/api/images?limit=500&after=b", "/api/images?limit=500&after=d", "/api/images?limit=500&after=f"],
            source.Listings);
        // Chunk by chunk: every post of an older page before any of a newer one.
        var order = node.Posts.Select(p => p.Query["filename"]![0]).ToList();
        Assert.True(order.IndexOf('a') < order.IndexOf('b') && order.IndexOf('c') < order.IndexOf('d') && order.IndexOf('d') < order.IndexOf('f'),
            string.Join(",", order));
    }

    [Fact]
    public async Task EntriesOfOneNameKeepTheirOrderThoughUploadsRunInParallel()
    {
        // The node serves the oldest entry of a name: a slow first upload must not be overtaken by a later one. The
        // node holds the first until other.png is committed (at most 10 s), so other.png is held back only if the
        // importer holds it back, whatever the machine's speed.
        using var node = new RecordingNode
        {
            Hold = (n, key) => key.StartsWith("seed001:1:", StringComparison.Ordinal) ? n.Committed("seed001:4:other.png") : Task.CompletedTask,
        };
        using var folder = Cli.TempFolder();
        string[] photos = ["rocket.jpg", "rocket-progressive.jpg", "rocket-cmyk.jpg", "chelsea.png"];
        var records = new List<string>();
        for (int id = 1; id <= 4; id++)
        {
            string name = id == 4 ? "other.png" : "same.jpg";
            Write(folder, $"imagens/{id}_{name}", Cli.Image(photos[id - 1]));
            records.Add($$"""{"id": {{id}}, "filename": "{{name}}", "uploader": "a", "path": "imagens/{{id}}_{{name}}", "timestamp": "2024-05-01T10:00:0{{id}}"}""");
        }
        Write(folder, "metadata.json", Encoding.UTF8.GetBytes("[" + string.Join(",", records) + "]"));
        var result = await Import(node, "seed001", folder.Path, "--parallel", "4");
        Assert.True(result.Code == Exit.Ok, result.ToString());
        long first = node.IdOf("seed001:1:same.jpg"), second = node.IdOf("seed001:2:same.jpg"), third = node.IdOf("seed001:3:same.jpg");
        Assert.True(first < second && second < third, $"ids {first}, {second}, {third}");
        Assert.True(node.IdOf("seed001:4:other.png") < first, "another name is not held back");
    }

    [Fact]
    public async Task RefusedItemsAreCountedAndTheOthersStillGo()
    {
        using var node = new RecordingNode { Refuse = name => name.StartsWith("bad") };
        using var folder = Cli.TempFolder();
        Write(folder, "imagens/1_bad.jpg", Cli.Image("rocket.jpg"));
        Write(folder, "imagens/2_good.jpg", Cli.Image("rocket-progressive.jpg"));
        Write(folder, "metadata.json", """
            [{"id": 1, "filename": "bad.jpg", "uploader": "a", "path": "imagens/1_bad.jpg", "timestamp": "2024-05-01T10:00:00"},
             {"id": 2, "filename": "good.jpg", "uploader": "a", "path": "imagens/2_good.jpg", "timestamp": "2024-05-01T10:00:01"}]
            """u8.ToArray());
        var result = await Import(node, "seed001", folder.Path);
        Assert.True(result.Code == Exit.NodeError, result.ToString());
        Assert.Equal("imported 1, already there 0, failed 1", result.Out.Trim());
        Assert.Contains("400 not an image", result.Err);
    }

    /// <summary><c>--timeout</c> bounds the wait for an answer, not a whole upload: an image that takes longer than it
    /// to cross a slow link (791 KB at 200 KB/s, about 4 s, with <c>--timeout 2</c>) is imported.</summary>
    [Fact]
    public async Task AnUploadLongerThanTheTimeoutOnASlowLinkGoesThrough()
    {
        using var node = new RecordingNode { BodyRate = 200 * 1024 };
        using var folder = Cli.TempFolder();
        Write(folder, "data/2024-05-01/120000.png", Cli.Image("astronaut.png"));
        var result = await Import(node, "seed000", folder.Path, "--timeout", "2");
        Assert.True(result.Code == Exit.Ok, result.ToString());
        Assert.Equal("imported 1, already there 0, failed 0", result.Out.Trim());
        Assert.Equal(Cli.Image("astronaut.png"), Assert.Single(node.Posts).Body);
    }

    [Fact]
    public async Task AWrongTokenEndsTheRunWithExitCode1AndNoTokenIsAUsageError()
    {
        using var node = new RecordingNode();
        using var folder = Cli.TempFolder();
        Write(folder, "data/2024-05-01/120000.jpg", Cli.Image("rocket.jpg"));
        var wrong = await Cli.RunAsync("import", "seed000", folder.Path, "--http-port", node.Port.ToString(), "--token", "nope");
        Assert.True(wrong.Code == Exit.NodeError, wrong.ToString());
        Assert.Contains("401", wrong.Err);
        Assert.Contains("--token", wrong.Err);

        if (Environment.GetEnvironmentVariable("ACTORIMAGES_ADMIN_TOKEN") is null && !File.Exists("run/admin-token"))
        {
            var none = await Cli.RunAsync("import", "seed000", folder.Path, "--http-port", node.Port.ToString());
            Assert.True(none.Code == Exit.Usage, none.ToString());
            Assert.Contains("admin token", none.Err);
        }

        var closed = await Cli.RunAsync("import", "seed000", folder.Path, "--http-port", CommandLineTests.ClosedPort().ToString(), "--token", Token);
        Assert.Equal(Exit.Connection, closed.Code);
        Assert.Equal(Exit.Usage, (await Cli.RunAsync("import")).Code);
        Assert.Equal(Exit.Usage, (await Cli.RunAsync("import", "cluster", "ftp://x", "--token", Token, "--http-port", node.Port.ToString())).Code);
        Assert.Equal(Exit.LocalFile, (await Cli.RunAsync("import", "seed001", folder.Path, "--token", Token, "--http-port", node.Port.ToString())).Code);
    }

    private static Task<Cli.Result> Import(RecordingNode node, params string[] args) =>
        Cli.RunAsync(["import", .. args, "--node", "127.0.0.1", "--http-port", node.Port.ToString(), "--token", Token]);

    private static void Write(TempFolder folder, string relative, byte[] bytes)
    {
        string path = Path.Combine(folder.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}

/// The node's side of an import: GET /api/images?limit=1 and POST /api/images with the import parameters, the admin
/// token checked and the import-key rule kept; every POST recorded in arrival order.
internal sealed class RecordingNode : IDisposable
{
    private readonly SmallHttpServer _http;
    private readonly ConcurrentDictionary<string, (long Id, string Json)> _byKey = new();
    private readonly List<Post> _posts = [];
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _committed = new();
    private long _nextId = 100;

    public RecordingNode() => _http = new SmallHttpServer(HandleAsync);

    public sealed record Post(Dictionary<string, string> Query, string? Authorization, byte[] Body);

    public int Port => _http.Port;

    public Func<string, bool> Refuse { get; init; } = _ => false;

    /// What the node awaits before it commits an item (by import key), at most <see cref="HoldLimit"/>, so later items
    /// can overtake it.
    public Func<RecordingNode, string, Task> Hold { get; init; } = (_, _) => Task.CompletedTask;

    /// How fast the node reads a POST's body, bytes/s; null: as fast as it can.
    public double? BodyRate { get; init; }

    /// The longest a <see cref="Hold"/> is awaited before the item is committed anyway.
    public static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(10);

    /// Completes when the item of <paramref name="key"/> has been committed.
    public Task Committed(string key) => CommitOf(key).Task;

    private TaskCompletionSource CommitOf(string key) =>
        _committed.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// The id each import key was committed under.
    public long IdOf(string key) => _byKey[key].Id;

    public List<Post> Posts
    {
        get
        {
            lock (_posts) return [.. _posts];
        }
    }

    public int Entries => _byKey.Count;

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        if (request.HttpMethod == "GET" && request.Url!.AbsolutePath == "/api/images")
        {
            var newest = _byKey.Values.OrderByDescending(e => e.Id).Take(1).Select(e => e.Json);
            await SmallHttpServer.Json(context, 200, $$"""{"images":[{{string.Join(',', newest)}}],"next":null}""");
            return;
        }
        if (request.HttpMethod != "POST" || request.Url!.AbsolutePath != "/api/images")
        {
            await SmallHttpServer.Json(context, 404, """{"status":404,"error":"no such route"}""");
            return;
        }
        var body = new MemoryStream();
        if (BodyRate is { } rate)
        {
            // A node behind a slow link: the body at this many bytes/s.
            var chunk = new byte[16 * 1024];
            for (int n; (n = await request.InputStream.ReadAsync(chunk)) > 0;)
            {
                body.Write(chunk, 0, n);
                await Task.Delay(TimeSpan.FromSeconds((double)n / rate));
            }
        }
        else
        {
            await request.InputStream.CopyToAsync(body);
        }
        var query = request.QueryString.AllKeys.ToDictionary(k => k!, k => request.QueryString[k]!);
        lock (_posts) _posts.Add(new Post(query, request.Headers["Authorization"], body.ToArray()));
        if (request.Headers["Authorization"] != "Bearer s3cret-token")
        {
            await SmallHttpServer.Json(context, 401, """{"status":401,"error":"importKey and receivedAt need the admin token"}""");
            return;
        }
        if (Refuse(query["filename"]))
        {
            await SmallHttpServer.Json(context, 400, """{"status":400,"error":"not an image"}""");
            return;
        }
        try
        {
            await Hold(this, query["importKey"]).WaitAsync(HoldLimit);
        }
        catch (TimeoutException)
        {
            // committed anyway: a test that expected the hold to end sees the order it got
        }
        var entry = _byKey.GetOrAdd(query["importKey"], _ =>
        {
            long id = Interlocked.Increment(ref _nextId);
            return (id, JsonSerializer.Serialize(new
            {
                id = id.ToString(CultureInfo.InvariantCulture), md5 = Cli.Md5(body.ToArray()), filename = query["filename"],
                uploader = query["uploader"], protocol = query["protocol"], receivedAt = query["receivedAt"],
            }));
        });
        CommitOf(query["importKey"]).TrySetResult();
        await SmallHttpServer.Json(context, 201, entry.Json);
    }

    public void Dispose() => _http.Dispose();
}

/// Another cluster's HTTP API: pages of `pageSize` entries newest first with a `next` cursor, and each md5's bytes.
internal sealed class SourceCluster : IDisposable
{
    private readonly SmallHttpServer _http;
    private Entry[] _newestFirst;
    private readonly int _pageSize;
    private readonly List<string> _listings = [];

    public sealed record Entry(string Id, byte[] Bytes, string Filename, string Uploader, string Protocol, string ReceivedAt);

    /// `oldestFirst` in upload order.
    public SourceCluster(Entry[] oldestFirst, int pageSize)
    {
        _newestFirst = oldestFirst.Reverse().ToArray();
        _pageSize = pageSize;
        _http = new SmallHttpServer(HandleAsync);
    }

    public int Port => _http.Port;

    public bool Corrupt { get; set; }

    /// Once this many listings were served, the entry with this id is deleted (before the next one is served).
    public (int AfterListings, string Id)? DeleteAfter { get; set; }

    public List<string> Listings
    {
        get
        {
            lock (_listings) return [.. _listings];
        }
    }

    private Task HandleAsync(HttpListenerContext context)
    {
        string path = context.Request.Url!.AbsolutePath;
        if (path == "/api/images")
        {
            lock (_listings)
            {
                if (DeleteAfter is { } delete && _listings.Count == delete.AfterListings)
                    _newestFirst = _newestFirst.Where(e => e.Id != delete.Id).ToArray();
                _listings.Add(context.Request.Url.PathAndQuery);
            }
            string? after = context.Request.QueryString["after"];
            int start = after is null ? 0 : Array.FindIndex(_newestFirst, e => e.Id == after) + 1;
            var page = _newestFirst.Skip(start).Take(_pageSize).ToArray();
            string? next = page.Length == _pageSize ? page[^1].Id : null;
            return SmallHttpServer.Json(context, 200, JsonSerializer.Serialize(new
            {
                images = page.Select(e => new
                {
                    id = e.Id, md5 = Cli.Md5(e.Bytes), size = e.Bytes.Length, filename = e.Filename, uploader = e.Uploader,
                    protocol = e.Protocol, receivedAt = e.ReceivedAt, nodes = new[] { "10.0.0.1" },
                }),
                next,
            }));
        }
        var parts = path.Split('/');
        if (parts is ["", "api", "images", var md5, "content"] && _newestFirst.FirstOrDefault(e => Cli.Md5(e.Bytes) == md5) is { } found)
        {
            return Bytes(context, Corrupt ? [.. found.Bytes, 0] : found.Bytes);
        }
        return SmallHttpServer.Json(context, 404, """{"status":404,"error":"no image"}""");
    }

    private static async Task Bytes(HttpListenerContext context, byte[] bytes)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    public void Dispose() => _http.Dispose();
}
