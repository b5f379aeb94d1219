using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The 2-node cluster of <see cref="CliTest"/> on 127.0.34.1–2.</summary>
public sealed class CliCluster() : ClusterFixture(subnet: 34, count: 2);

/// <summary>
/// Every command of <c>bin/actorimages</c> (README "Command line"), run as a process against a real 2-node cluster on
/// 127.0.34.1–2, and the exit codes scripts rely on: 0 ok, 1 the node or peer said no, 2 usage, 3 connection, 4 local
/// file, 5 integrity. Nothing listens on 127.0.34.79 (the bad host); the CLI's own peer and the fake peers bind
/// 127.0.34.72.
/// </summary>
public sealed class CliTest(CliCluster fixture) : IClassFixture<CliCluster>, IDisposable
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);
    private const string BadHost = "127.0.34.79";
    private const string PeerHost = "127.0.34.72";

    private readonly string _tmp = Directory.CreateTempSubdirectory("actorimages-cli-test-").FullName;

    private TestCluster Cluster => fixture.Cluster;

    private string Node1 => Cluster[1].Host;

    private string Node2 => Cluster[2].Host;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    [Fact]
    public async Task SendThenQueryImageShowsItOnTheOtherNode()
    {
        var image = Images.Jpeg("cli-send");
        var md5 = Images.Md5(image);
        var file = Write("send.jpg", image);

        var sent = await Ok("send", "--node", Node1, file);
        Assert.True(sent.Out == $"sent 1 image (0.1 MB) to {Node1}:5001\n", sent.ToString());

        var table = await Ok("query", "image", md5, "--node", Node2);
        Assert.True(table.Out.Contains(md5) && table.Out.Contains("P1_TCP") && table.Out.Contains(Node1) && table.Out.Contains(Node2), table.ToString());
        var entry = Json((await Ok("query", "image", md5.ToUpperInvariant(), "--node", Node2, "--json")).Out);
        Assert.Equal(md5, entry.GetProperty("md5").GetString());
        Assert.Equal(image.Length, entry.GetProperty("size").GetInt64());
        Assert.Equal("tcp:", entry.GetProperty("uploader").GetString()![..4]);
    }

    [Fact]
    public async Task SendOfAFolderSendsItsImagesAndVerifyNamesWhatTheNodeDiscarded()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_tmp, "camera", "day-1")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(folder, "a.png"), TestImages.Bytes("chelsea.png"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "b.tif"), TestImages.Bytes("multipage_rgb.tif"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "notes.txt"), TestImages.Bytes("not-an-image.txt"));

        var sent = await Ok("send", "--node", Node2, "--verify", Path.Combine(_tmp, "camera"));
        Assert.True(sent.Out.StartsWith("sent 2 images") && sent.Out.Contains("verified"), sent.ToString());

        // P1 has no reply: only --verify can tell that the node dropped a damaged JPEG.
        var broken = Path.Combine(folder, "c.jpg");
        await File.WriteAllBytesAsync(broken, TestImages.Bytes("truncated.jpg"));
        var dropped = await Fails(1, "send", "--node", Node2, "--verify", broken);
        Assert.True(dropped.Err.Contains("not stored by the node: " + broken), dropped.ToString());
    }

    [Fact]
    public async Task UploadThenListShowsItAndDownloadGivesIdenticalBytes()
    {
        var name = $"upload-{Guid.NewGuid():N}-astronaut.png";
        var file = Write(name, TestImages.Bytes("astronaut.png"));

        var uploaded = await Ok("upload", "--node", Node1, "--user", "carol", file);
        Assert.True(uploaded.Out.StartsWith($"Upload de {name} concluído. ID: "), uploaded.ToString());

        var table = await Ok("list", "--node", Node2);
        Assert.True(table.Out.Split('\n').Any(l => Regex.IsMatch(l, $"^{Regex.Escape(name)} +carol$")), table.ToString());
        Assert.Contains(Json((await Ok("list", "--node", Node2, "--json")).Out).EnumerateArray(),
            f => f.GetProperty("filename").GetString() == name && f.GetProperty("uploader").GetString() == "carol");

        var into = Directory.CreateDirectory(Path.Combine(_tmp, "downloads")).FullName;
        var downloaded = await Ok("download", name, "-o", into, "--node", Node2);
        Assert.True(downloaded.Out.StartsWith("saved " + Path.Combine(into, name)), downloaded.ToString());
        Assert.Equal(TestImages.Bytes("astronaut.png"), await File.ReadAllBytesAsync(Path.Combine(into, name)));

        var again = await Fails(4, "download", name, "-o", into, "--node", Node2);
        Assert.True(again.Err.Contains("file exists") && again.Err.Contains(Path.Combine(into, name)), again.ToString());
        await File.WriteAllTextAsync(Path.Combine(into, name), "old");
        await Ok("download", name, "-o", into, "--force", "--node", Node1);
        Assert.Equal(TestImages.Bytes("astronaut.png"), await File.ReadAllBytesAsync(Path.Combine(into, name)));
        Assert.Single(Directory.GetFileSystemEntries(into));
    }

    [Fact]
    public async Task UploadOfAFileThatIsNotAnImageExitsOneWithTheNodesMessage()
    {
        var run = await Fails(1, "upload", "--node", Node1, TestImages.PathOf("not-an-image.txt"));
        Assert.True(run.Err.Contains($"{Node1}:8765 UPLOAD not-an-image.txt: Falha no upload"), run.ToString());
    }

    [Fact]
    public async Task ViewSavesTheFileInATempFolderAndPrintsItsPath()
    {
        var name = $"view-{Guid.NewGuid():N}-coffee.png";
        await Ok("upload", "--node", Node2, Write(name, TestImages.Bytes("coffee.png")));

        var viewed = await Ok("view", name, "--no-open", "--node", Node1);
        Assert.StartsWith("saved ", viewed.Out);
        var saved = viewed.Out.Trim()["saved ".Length..];
        try
        {
            Assert.Equal(name, Path.GetFileName(saved));
            Assert.StartsWith("actorimages-view-", Path.GetFileName(Path.GetDirectoryName(saved)));
            Assert.Equal(TestImages.Bytes("coffee.png"), await File.ReadAllBytesAsync(saved));
        }
        finally
        {
            File.Delete(saved);
            Directory.Delete(Path.GetDirectoryName(saved)!);
        }
    }

    [Fact]
    public async Task DownloadOfAnUnknownNameExitsOneWithTheNodesMessageAndLeavesNothing()
    {
        var into = Directory.CreateDirectory(Path.Combine(_tmp, "unknown")).FullName;
        var run = await Fails(1, "download", $"no-such-{Guid.NewGuid():N}.png", "-o", into, "--node", Node1);
        Assert.True(run.Err.Contains("Arquivo nao encontrado."), run.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(into));
    }

    [Fact]
    public async Task GetFetchesFromTheFirstHolderListedAndChecksTheMd5()
    {
        var image = Images.Jpeg("cli-get");
        var md5 = Images.Md5(image);
        await RawWire.SendP1Async(Node1, image);
        await Poll.UntilAsync(Soon, "peers listing " + md5, async () => (await Ok("peers", "--all", "--node", Node2)).Out.Contains(md5));

        var into = Directory.CreateDirectory(Path.Combine(_tmp, "get")).FullName;
        var got = await Ok("get", md5, "-o", into, "--node", Node2);
        Assert.Matches($@"^saved {Regex.Escape(into)}/\d{{6}}(-\d+)?\.jpg \({image.Length} bytes, md5 ok\) from 127\.0\.34\.[12]:13378\n$", got.Out);
        Assert.Equal(image, await File.ReadAllBytesAsync(got.Out.Split(' ')[1]));

        var other = Directory.CreateDirectory(Path.Combine(_tmp, "from")).FullName;
        var direct = await Ok("get", md5, "--from", Node2 + ":13378", "-o", other, "--node", Node1);
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(other, md5 + ".jpg")));
        Assert.Contains($"from {Node2}:13378", direct.Out);
    }

    [Fact]
    public async Task GetOfAnMd5NoHolderHasExitsOne()
    {
        var unknown = Images.Md5(UniqueGif());
        var listed = await Fails(1, "get", unknown, "-o", _tmp, "--node", Node1);
        Assert.True(listed.Err.Contains("no holder of " + unknown), listed.ToString());
        var direct = await Fails(1, "get", unknown, "--from", Node1 + ":13378", "-o", _tmp, "--node", Node1);
        Assert.True(direct.Err.Contains("closed without data"), direct.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(_tmp));
    }

    /// <summary>docs/protocols.md, P4: a reply whose MD5 does not match is a miss; a seed-003 peer's text is its error.</summary>
    [Theory]
    [InlineData("other image", 5, "md5 mismatch")]
    [InlineData("seed-003 text", 1, "ERR File not found")]
    public async Task GetKeepsNothingWhoseMd5DiffersFromTheOneAskedFor(string reply, int code, string message)
    {
        var answer = reply == "other image" ? TestImages.Bytes("rocket.jpg") : "ERR File not found"u8.ToArray();
        var asked = Images.Md5(UniqueGif());
        using var peer = new TcpListener(IPAddress.Parse(PeerHost), 0);
        peer.Start();
        var serve = Task.Run(async () =>
        {
            using var client = await peer.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = new byte[36];
            for (var have = 0; have < 36;)
            {
                var n = await stream.ReadAsync(request.AsMemory(have));
                if (n == 0) break;
                have += n;
            }
            await stream.WriteAsync(answer);
        });
        var run = await Fails(code, "get", asked, "--from", $"{PeerHost}:{((IPEndPoint)peer.LocalEndpoint).Port}", "-o", _tmp, "--node", Node1);
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(run.Err.Contains(message), run.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(_tmp));
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task RegisterServesTheFolderToPeersUntilStoppedThenEnds(string signal)
    {
        var shared = Directory.CreateDirectory(Path.Combine(_tmp, "shared")).FullName;
        var gif = UniqueGif();
        var md5 = Images.Md5(gif);
        await File.WriteAllBytesAsync(Path.Combine(shared, "peer-image.gif"), gif);
        await File.WriteAllBytesAsync(Path.Combine(shared, "readme.txt"), TestImages.Bytes("not-an-image.txt"));

        using var register = CliProcess.Start("register", shared, "--node", Node1, "--bind", PeerHost, "--password", "p;w\"x'");
        var registered = await register.AwaitLineAsync(Soon, l => l.StartsWith("OK "));
        Assert.StartsWith($"OK 1_REGISTERED_IMAGES: 1 image of {shared} registered with {Node1}:13377; serving on {PeerHost}:", registered);

        // Registered through node 1, listed by node 2 with the CLI's peer port as holder.
        JsonElement item = default;
        await Poll.UntilAsync(Soon, "node 2 listing the registered image", async () =>
        {
            var listed = Json((await Ok("peers", "--all", "--json", "--node", Node2)).Out).EnumerateArray()
                .Where(i => i.GetProperty("md5").GetString() == md5).ToList();
            if (listed.Count > 0) item = listed[0];
            return listed.Count > 0;
        });
        Assert.Equal("peer-image.gif", item.GetProperty("name").GetString());
        var holder = item.GetProperty("holders")[0].GetString()!;
        Assert.StartsWith(PeerHost + ":", holder);
        Assert.True(registered.EndsWith($"{holder} until Ctrl-C"), registered);
        var table = await Ok("peers", "--node", Node2);
        Assert.True(table.Out.Split('\n').Any(l => Regex.IsMatch(l, $"^{md5} +peer-image\\.gif +{Regex.Escape(holder)}$")), table.ToString());

        // Another peer fetches it with P4 GET from the CLI's peer port.
        var into = Directory.CreateDirectory(Path.Combine(_tmp, "fetched")).FullName;
        var got = await Ok("get", md5, "-o", into, "--node", Node2);
        Assert.Equal(gif, await File.ReadAllBytesAsync(Path.Combine(into, "peer-image.gif")));
        Assert.Contains($"from {holder}", got.Out);
        await register.AwaitLineAsync(Soon, l => l.Contains("served peer-image.gif"));

        // Ctrl-C or kill: END, then exit 0.
        await register.SignalAsync(signal);
        var ended = await register.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(ended.Code == 0, ended.ToString());
        Assert.True(ended.Out.Contains("OK CLIENT_FINISHED"), ended.ToString());
        await Poll.UntilAsync(Soon, "END removing the registration from LST on both nodes", async () =>
            !(await Ok("peers", "--all", "--node", Node1)).Out.Contains(md5) && !(await Ok("peers", "--all", "--node", Node2)).Out.Contains(md5));
    }

    [Fact]
    public async Task QueryImagesPagesNewestFirst()
    {
        await RawWire.SendP1Async(Node1, Images.Jpeg("cli-page-1"));
        await RawWire.SendP1Async(Node2, Images.Jpeg("cli-page-2"));

        var first = Json((await Ok("query", "images", "--limit", "1", "--json", "--node", Node1)).Out);
        Assert.Equal(1, first.GetProperty("images").GetArrayLength());
        var cursor = first.GetProperty("next").ToString();
        var second = Json((await Ok("query", "images", "--limit", "1", "--after", cursor, "--json", "--node", Node2)).Out);
        Assert.True(long.Parse(first.GetProperty("images")[0].GetProperty("id").ToString())
                    > long.Parse(second.GetProperty("images")[0].GetProperty("id").ToString()), "newest first");
        Assert.True(string.CompareOrdinal(first.GetProperty("images")[0].GetProperty("receivedAt").GetString(),
            second.GetProperty("images")[0].GetProperty("receivedAt").GetString()) >= 0, "newest first");

        var table = await Ok("query", "images", "--limit", "2", "--node", Node1);
        var lines = table.Out.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 3 && lines[0].StartsWith("RECEIVED"), table.ToString());
        Assert.True(table.Err.Contains("next page: --after "), table.ToString());

        await Fails(1, "query", "images", "--after", "999999999", "--node", Node1);
    }

    [Fact]
    public async Task QueryClusterShowsBothMembers()
    {
        var cluster = Json((await Ok("query", "cluster", "--json", "--node", Node2)).Out);
        Assert.Equal(Node2, cluster.GetProperty("self").GetString());
        Assert.Equal(["Up", "Up"], cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()));
        Assert.Contains(cluster.GetProperty("trackerHost").GetString(), new[] { Node1, Node2 });
        var table = await Ok("query", "cluster", "--node", Node1);
        foreach (var node in new[] { Node1, Node2 })
            Assert.True(table.Out.Split('\n').Any(l => Regex.IsMatch(l, $"^{Regex.Escape(node)} +Up +yes ")), table.ToString());
        Assert.StartsWith($"self:    {Node1}\n", table.Out);
    }

    [Fact]
    public async Task QueryImageOfAnUnknownMd5ExitsOneWithTheHttpError()
    {
        var unknown = Images.Md5(UniqueGif());
        var run = await Fails(1, "query", "image", unknown, "--node", Node1);
        Assert.True(run.Err.Contains("404") && run.Err.Contains("no image with md5 " + unknown), run.ToString());
    }

    [Theory]
    [InlineData("send IMAGES/rocket.jpg", 5001)]
    [InlineData("upload IMAGES/rocket.jpg", 8765)]
    [InlineData("list", 8765)]
    [InlineData("download x.png", 8765)]
    [InlineData("view x.png", 8765)]
    [InlineData("register IMAGES --bind 127.0.34.79", 13377)]
    [InlineData("peers", 13377)]
    [InlineData("get 0123456789abcdef0123456789abcdef", 13377)]
    [InlineData("get 0123456789abcdef0123456789abcdef --from 127.0.34.79:13378", 13378)]
    [InlineData("query images", 8080)]
    [InlineData("query image 0123456789abcdef0123456789abcdef", 8080)]
    [InlineData("query cluster", 8080)]
    public async Task AHostWhereNothingListensExitsThreeNamingTheEndpoint(string command, int port)
    {
        var args = command.Split(' ').Select(a => a.Replace("IMAGES", TestImages.Directory)).ToList();
        args.AddRange(["--node", BadHost]);
        if (command.StartsWith("download") || command.StartsWith("get")) args.AddRange(["-o", _tmp]);
        var run = await Fails(3, [.. args]);
        Assert.True(run.Err.Trim() == $"actorimages: connection refused: {BadHost}:{port}", run.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(_tmp));
    }

    [Fact]
    public async Task VerboseShowsTheStackTrace()
    {
        var run = await CliProcess.RunAsync("--verbose", "list", "--node", BadHost);
        Assert.Equal(3, run.Code);
        Assert.True(run.Err.Contains("   at "), run.ToString());
    }

    [Theory]
    [InlineData("send")]
    [InlineData("send --bogus x.jpg")]
    [InlineData("upload x.jpg -z")]
    [InlineData("download --bogus")]
    [InlineData("get not-an-md5")]
    [InlineData("query image 123")]
    [InlineData("query")]
    [InlineData("frobnicate")]
    [InlineData("list --timeout soon")]
    [InlineData("get 0123456789abcdef0123456789abcdef --from nowhere")]
    public async Task UsageErrorsExitTwo(string command)
    {
        var run = await Fails(2, [.. command.Split(' '), "--node", Node1]);
        Assert.StartsWith("actorimages: ", run.Err);
        Assert.True(run.Err.Contains("--help"), run.ToString());
    }

    [Fact]
    public async Task LocalFileProblemsExitFour()
    {
        var missing = await Fails(4, "send", Path.Combine(_tmp, "missing.jpg"), "--node", Node1);
        Assert.True(missing.Err.Contains(Path.Combine(_tmp, "missing.jpg")), missing.ToString());
        var notImage = await Fails(4, "send", TestImages.PathOf("not-an-image.txt"), "--node", Node1);
        Assert.True(notImage.Err.Contains("not an image"), notImage.ToString());
        var noFolder = await Fails(4, "download", "x.png", "-o", Path.Combine(_tmp, "nope"), "--node", Node1);
        Assert.True(noFolder.Err.Contains("no such folder: " + Path.Combine(_tmp, "nope")), noFolder.ToString());
        await Fails(4, "register", Path.Combine(_tmp, "nope"), "--node", Node1);
    }

    [Fact]
    public async Task HelpListsEveryCommandAndTheExitCodes()
    {
        var help = await Ok("--help");
        foreach (var command in new[] { "send", "upload", "list", "download", "view", "register", "peers", "get", "query" })
            Assert.Matches($@"\n +{command} ", help.Out);
        Assert.True(help.Out.Contains("Exit codes:") && help.Out.Contains("5   integrity failure"), help.ToString());
        Assert.Contains("3   connection problem", (await Ok("get", "--help")).Out);
    }

    [Fact]
    public async Task ProgressGoesToStderrAndLeavesStdoutForScripts()
    {
        var run = await Ok("send", "--progress", "--node", Node2, TestImages.PathOf("chelsea.png"), TestImages.PathOf("coffee.png"));
        Assert.Equal($"sent 2 images (0.7 MB) to {Node2}:5001\n", run.Out);
        Assert.True(run.Err.Contains(": 2 of 2 (100%)"), run.ToString());
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_tmp, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<CliProcess.Result> Ok(params string[] args)
    {
        var run = await CliProcess.RunAsync(args);
        Assert.True(run.Code == 0, string.Join(' ', args) + "\n" + run);
        Assert.False(run.Err.Contains("   at "), "no stack trace\n" + run);
        return run;
    }

    private static async Task<CliProcess.Result> Fails(int code, params string[] args)
    {
        var run = await CliProcess.RunAsync(args);
        Assert.True(run.Code == code, string.Join(' ', args) + "\n" + run);
        Assert.False(run.Err.Contains("   at "), "no stack trace without --verbose\n" + run);
        return run;
    }

    private static JsonElement Json(string text)
    {
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"not JSON: {text}\n{e.Message}");
        }
    }

    /// <summary>A GIF header and trailer around random bytes: an md5 no other test has.</summary>
    private static byte[] UniqueGif() => [.. "GIF89a"u8, .. Encoding.ASCII.GetBytes(Guid.NewGuid().ToString()), (byte)';'];
}
