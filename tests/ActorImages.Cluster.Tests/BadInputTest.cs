using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ActorImages.Protocols;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The one-node cluster of <see cref="BadInputTest"/> on 127.0.31.1: P1 idle timeout 2 s, images up to
/// 1 MiB, so that the timeout and the size limit can be reached quickly.</summary>
public sealed class BadInputCluster() : ClusterFixture(subnet: 31, count: 1, new Dictionary<string, string>
{
    ["ACTORIMAGES_P1_IDLE_TIMEOUT"] = "2s",
    ["ACTORIMAGES_MAX_IMAGE_BYTES"] = BadInputTest.MaxImageBytes.ToString(),
});

/// <summary>
/// Every bad-input rule of docs/protocols.md against a real node on 127.0.31.1 over real sockets, each followed by
/// proof that the node still serves: no malformed request stops a listener or the node, and nothing of a bad upload
/// ever becomes visible (no stored file, no catalog entry, no temp file left behind). Datagrams come from
/// 127.0.31.100.
/// </summary>
public sealed class BadInputTest(BadInputCluster fixture) : IClassFixture<BadInputCluster>
{
    /// <summary>The node's <c>max-image-bytes</c> here: 1 MiB.</summary>
    public const int MaxImageBytes = 1 << 20;

    private const string Peer = "127.0.31.100";
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(1.5);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private NodeProcess Node => fixture.Cluster[1];

    private string Host => Node.Host;

    [Fact]
    public async Task P1BadFramesAreClosedAndStoreNothingAndTheListenerKeepsServing()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var before = await CatalogCountAsync();
        var filesBefore = StoredFiles();

        // N = 0: closed at once, from the header alone.
        var zero = await RawWire.SendP1RawAsync(Host, [0, 0, 0, 0], halfClose: false);
        AssertClosedAtOnce(zero, "N = 0");
        // N above max-image-bytes: closed at once without waiting for (or allocating) N bytes; N is unsigned, so
        // 80 00 00 00 is 2^31, not a negative number.
        foreach (var n in new uint[] { MaxImageBytes + 1, 0x8000_0000, 0xFFFF_FFFF })
        {
            var over = await RawWire.SendP1RawAsync(Host, P1Frame.Header(n), halfClose: false);
            AssertClosedAtOnce(over, $"N = {n}");
        }
        Assert.Equal(0, TempFiles());

        // Truncated: EOF before N bytes; and EOF inside a header.
        var truncated = await RawWire.SendP1RawAsync(Host, Frame(rocket, rocket.Length / 2), halfClose: true);
        Assert.Equal(0, truncated.BytesFromNode);
        Assert.Equal(0, (await RawWire.SendP1RawAsync(Host, [0, 1], halfClose: true)).BytesFromNode);
        // docs/protocols.md, P1: "each with a log line naming the peer".
        var logged = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!Node.ReadLog().Contains("the connection ended inside a frame header (2 of 4 bytes)") && DateTime.UtcNow < logged)
            await Task.Delay(100);
        Assert.Contains("the connection ended inside a frame header (2 of 4 bytes)", Node.ReadLog());
        // Not an image, and a genuinely broken JPEG (skimage's truncated.jpg), each a whole frame.
        Assert.Equal(0, (await RawWire.SendP1Async(Host, TestImages.Bytes("not-an-image.txt"))).BytesFromNode);
        Assert.Equal(0, (await RawWire.SendP1Async(Host, TestImages.Bytes("truncated.jpg"))).BytesFromNode);
        // An image whose magic bytes are right and nothing else is.
        Assert.Equal(0, (await RawWire.SendP1Async(Host, [0xFF, 0xD8, 0xFF, 0xE0, .. new byte[400]])).BytesFromNode);

        // No progress for idle-timeout (2 s here): closed, inside a header and inside a frame's bytes.
        foreach (var (what, raw) in new[] { ("inside a header", new byte[] { 0, 0, 1 }), ("inside a frame", Frame(rocket, 1000)) })
        {
            var idle = await RawWire.SendP1RawAsync(Host, raw, halfClose: false, limit: TimeSpan.FromSeconds(30));
            Assert.Equal(0, idle.BytesFromNode);
            Assert.True(idle.Elapsed >= TimeSpan.FromSeconds(1.5) && idle.Elapsed < TimeSpan.FromSeconds(15),
                $"idle {what}: closed after {idle.Elapsed.TotalSeconds:0.0} s, expected about 2 s");
        }

        Assert.Equal(filesBefore, StoredFiles());
        Assert.Equal(before, await CatalogCountAsync());
        await AssertNoTempFileAsync();

        // A frame received whole is stored even though a bad one follows it on the same connection.
        var good = Images.Jpeg("p1-before-junk");
        var goodThenJunk = (byte[])[.. Frame(good, good.Length), .. Frame(TestImages.Bytes("not-an-image.txt"), 125)];
        Assert.Equal(0, (await RawWire.SendP1RawAsync(Host, goodThenJunk, halfClose: true)).BytesFromNode);
        // And an over-long header after a good frame stores the good one and closes.
        var second = Images.Jpeg("p1-before-huge-header");
        Assert.Equal(0, (await RawWire.SendP1RawAsync(Host, [.. Frame(second, second.Length), .. P1Frame.Header(0xFFFF_FFFF)],
            halfClose: false)).BytesFromNode);
        // A frame that is no image is discarded whole: the good frames after it on the same connection are stored.
        var third = Images.Jpeg("p1-after-junk");
        var junkThenGood = (byte[])[.. Frame(TestImages.Bytes("not-an-image.txt"), 125), .. Frame(TestImages.Bytes("truncated.jpg"), 400),
            .. Frame(third, third.Length)];
        Assert.Equal(0, (await RawWire.SendP1RawAsync(Host, junkThenGood, halfClose: true)).BytesFromNode);
        Assert.Equal(third, await RawWire.GetP4Async(Host, 13378, Images.Md5(third)));
        Assert.Equal(filesBefore + 3, StoredFiles());
        Assert.Equal(before + 3, await CatalogCountAsync());
        Assert.Equal(good, await RawWire.GetP4Async(Host, 13378, Images.Md5(good)));
        Assert.Equal(second, await RawWire.GetP4Async(Host, 13378, Images.Md5(second)));
        await AssertNoTempFileAsync();
    }

    [Fact]
    public async Task P2ErrorsAreTheSeedsTextsAndTheConnectionStaysOpen()
    {
        var before = await CatalogCountAsync();
        var filesBefore = StoredFiles();
        await using var p2 = await LegacyWire.P2.ConnectAsync(Host);
        await p2.SendAsync("AUTH", "mallory");
        Assert.Equal("Autenticado como mallory", (await p2.ReplyAsync()).GetProperty("message").GetString());

        async Task Expect(string message, Func<Task> send)
        {
            await send();
            var reply = await p2.ReplyAsync();
            Assert.True(reply.GetProperty("status").GetString() == "ERROR", reply.ToString());
            Assert.Equal(message, reply.GetProperty("message").GetString());
        }

        const string notJson = "Formato inválido (não é JSON).";
        const string unknown = "Comando desconhecido.";
        const string uploadFormat = "Formato UPLOAD incorreto (esperado: [filename, size]).";
        const string badSize = "Tamanho do arquivo invalido.";
        const string nameFormat = "Formato invalido (esperado: [filename]).";

        await Expect(unknown, () => p2.SendAsync("FLY"));
        await Expect(unknown, () => p2.SendTextAsync("""{"cmd":"LIſT","args":[]}"""));
        await Expect(unknown, () => p2.SendTextAsync("""[1,2,3]"""));
        await Expect(unknown, () => p2.SendTextAsync("""{"args":[]}"""));
        await Expect(unknown, () => p2.SendTextAsync("""{"cmd":7}"""));
        foreach (var text in new[] { "this is not json", "", "   ", "{'cmd':'LIST'}", """{"cmd":"LIST"} trailing""",
                     "{\"cmd\":\"LI\u0001ST\"}", new string('[', 65) + new string(']', 65) })
            await Expect(notJson, () => p2.SendTextAsync(text));

        await Expect(uploadFormat, () => p2.SendAsync("UPLOAD", "a.png"));
        await Expect(uploadFormat, () => p2.SendAsync("UPLOAD", "a.png", "12", "x"));
        await Expect(uploadFormat, () => p2.SendAsync("UPLOAD", 5, "12"));
        await Expect(uploadFormat, () => p2.SendTextAsync("""{"cmd":"UPLOAD","args":"a.png"}"""));
        foreach (var size in new object[] { "12x", "12.5", 12.5, "-1", "+5", " 5", "5_000", "١٢", true, "99999999999999999999" })
            await Expect(badSize, () => p2.SendAsync("UPLOAD", "a.png", size));
        await Expect(badSize, () => p2.SendTextAsync("""{"cmd":"UPLOAD","args":["a.png",null]}"""));
        await Expect(badSize, () => p2.SendTextAsync("""{"cmd":"UPLOAD","args":["a.png",1e3]}"""));

        await Expect(nameFormat, () => p2.SendAsync("DOWNLOAD"));
        await Expect(nameFormat, () => p2.SendAsync("VIEW", "a", "b"));
        await Expect(nameFormat, () => p2.SendAsync("DOWNLOAD", 42));
        await Expect("Arquivo nao encontrado.", () => p2.SendAsync("DOWNLOAD", "no-such-file.png"));
        await Expect("Arquivo nao encontrado.", () => p2.SendAsync("VIEW", "no-such-file.png"));

        var chelsea = TestImages.Bytes("chelsea.png");
        // Wrong size: one byte more announced than sent, then one byte fewer.
        foreach (var announced in new[] { chelsea.Length + 1, chelsea.Length - 1 })
        {
            await p2.SendAsync("UPLOAD", "chelsea.png", announced.ToString());
            Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
            await p2.SendBinaryAsync(chelsea);
            var wrongSize = await p2.ReplyAsync();
            Assert.True(wrongSize.GetProperty("status").GetString() == "ERROR", wrongSize.ToString());
            Assert.StartsWith("Falha no upload: ", wrongSize.GetProperty("message").GetString());
        }
        // Not an image; too large for this node (1 MiB).
        foreach (var bytes in new[] { TestImages.Bytes("not-an-image.txt"), [.. TestImages.Bytes("rocket.jpg"), .. new byte[MaxImageBytes]] })
        {
            await p2.SendAsync("UPLOAD", "notes.png", bytes.Length.ToString());
            Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
            await p2.SendBinaryAsync(bytes);
            var refused = await p2.ReplyAsync();
            Assert.True(refused.GetProperty("status").GetString() == "ERROR", refused.ToString());
            Assert.StartsWith("Falha no upload: ", refused.GetProperty("message").GetString());
        }
        // A NUL in a name, which PostgreSQL's text cannot hold: refused with a clear reason, and not looked up.
        await p2.SendAsync("UPLOAD", "nul\0.png", chelsea.Length.ToString());
        Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
        await p2.SendBinaryAsync(chelsea);
        var nul = await p2.ReplyAsync();
        Assert.Equal("Falha no upload: the file name or the user name holds a NUL character", nul.GetProperty("message").GetString());
        await Expect("Arquivo nao encontrado.", () => p2.SendAsync("DOWNLOAD", "nul\0.png"));
        // A binary frame outside an upload is ignored: no reply, and the next command is answered normally.
        await p2.SendBinaryAsync(chelsea);
        await p2.SendAsync("LIST");
        var list = await p2.ReplyAsync();
        Assert.Equal("SUCCESS", list.GetProperty("status").GetString());
        Assert.Equal("LIST", list.GetProperty("cmd").GetString());
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), f => f.GetProperty("uploader").GetString() == "mallory");
        Assert.Equal(filesBefore, StoredFiles());
        Assert.Equal(before, await CatalogCountAsync());
        await AssertNoTempFileAsync();

        // The connection still works: a real upload succeeds, its size sent as a JSON number this time.
        var image = Images.Jpeg("p2-after-errors");
        await p2.SendAsync("UPLOAD", "after-errors.jpg", image.Length);
        Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
        await p2.SendBinaryAsync(image);
        var done = await p2.ReplyAsync();
        Assert.True(done.GetProperty("status").GetString() == "SUCCESS", done.ToString());
        await p2.SendAsync("DOWNLOAD", "after-errors.jpg");
        Assert.Equal(image.Length, (await p2.ReplyAsync()).GetProperty("size").GetInt64());
        Assert.Equal(image, (await p2.ReceiveAsync()).Bytes);
        Assert.Equal("SUCCESS", (await p2.ReplyAsync()).GetProperty("status").GetString());
        await p2.SendAsync("disconnect");
        var bye = await p2.ReplyAsync();
        Assert.Equal("BYE", bye.GetProperty("status").GetString());
        Assert.Equal("Cliente mallory se desconectando...", bye.GetProperty("message").GetString());
        Assert.True(await p2.ClosedByServerAsync(TimeSpan.FromSeconds(10)), "closed by the node after BYE");
        Assert.Equal(before + 1, await CatalogCountAsync());
    }

    /// <summary>A P2 client that never answers the node's close frame (after <c>DISCONNECT</c>) cannot hold its
    /// connection: the node waits 5 s for the client's close frame, then drops the connection.</summary>
    [Fact]
    public async Task P2AClientThatNeverAnswersTheCloseIsCutOff()
    {
        await using var p2 = await RawWebSocket.ConnectAsync(Host, 8765);
        Assert.StartsWith("HTTP/1.1 101", p2.Handshake);
        await p2.SendTextAsync("""{"cmd":"DISCONNECT","args":[]}""");
        Assert.Equal("""{"status":"BYE","message":"Cliente anon se desconectando..."}""", (await p2.ReadMessageAsync()).Text);
        Assert.Equal(8, (await p2.ReadFrameAsync()).Opcode);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await p2.ClosedByNodeAsync(TimeSpan.FromSeconds(30)), "the node still holds the connection after 30 s");
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task P3MalformedDatagramsGetErrAndRepliesAreNeverAnswered()
    {
        const string invalid = "ERR INVALID_MESSAGE_FORMAT";
        var md5 = new string('a', 32);
        var bad = new List<string>
        {
            "HELLO", "reg pw 5000 ''", "lst", "REG pw", "REG pw 5000", "UPD pw 5000", "END pw", "END pw 5000 extra",
            "REG  pw 5000 ''", "REG pw  5000 ''", "REG pw notaport ''", "REG pw 70000 ''", "REG pw 0 ''", "REG pw 65536 ''",
            "REG pw +5000 ''", "REG pw -1 ''", "REG pw 5000 nocomma", $"REG pw 5000 {new string('z', 32)},x.jpg",
            $"REG pw 5000 {md5[1..]},x.jpg", $"REG pw 5000 {md5}a,x.jpg", $"REG pw 5000 ''{md5},a''",
            $"REG pw 5000 {md5},a\tb.jpg", $"REG pw 5000 {md5},a\u0001.jpg", $"REG pw 5000 {md5},a\u007f.jpg",
            $"REG pw 5000 {md5},a\u0085.jpg", $"REG pw 5000 {md5},../x.jpg", $"REG pw 5000 {md5},a\\x.jpg",
            $"REG pw 5000 {md5},{new string('n', 256)}", $"REG pw 5000 {md5},{string.Concat(Enumerable.Repeat("é", 128))}",
            "LST extra", "LST -1", "LST 2147483648", "LST 1 2", "LST +1", "LST  1",
        };
        foreach (var request in bad)
            Assert.True(invalid == await RawWire.AskP3Async(Host, Peer, request), $"'{request}' should be {invalid}");

        var raw = new List<(string What, byte[] Bytes)>
        {
            ("not UTF-8", [.. "LST "u8, 0xFF, 0xFE]),
            ("an overlong '/'", [.. "REG pw 5000 "u8, .. Encoding.ASCII.GetBytes(md5), (byte)',', 0xC0, 0xAF]),
            ("an encoded surrogate", [.. "REG pw 5000 "u8, .. Encoding.ASCII.GetBytes(md5), (byte)',', 0xED, 0xA0, 0x80]),
            ("a byte-order mark", [0xEF, 0xBB, 0xBF, .. "LST"u8]),
            ("a NUL", [.. "LST"u8, 0]),
            ("64 KB of x", Enumerable.Repeat((byte)'x', 65_000).ToArray()),
            ("an empty datagram", []),
        };
        foreach (var (what, bytes) in raw)
            Assert.True(invalid == await RawWire.AskP3Async(Host, Peer, bytes, 1024, TimeSpan.FromSeconds(15)), what);

        // Wrong password and unknown identity.
        Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD", await RawWire.AskP3Async(Host, Peer, "END nobody 5001"));
        Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD", await RawWire.AskP3Async(Host, Peer, $"UPD nobody 5001 {md5},x.jpg"));
        Assert.Equal("OK 1_REGISTERED_IMAGES", await RawWire.AskP3Async(Host, Peer, $"REG pw 5001 {md5},x.jpg"));
        Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD", await RawWire.AskP3Async(Host, Peer, $"UPD wrong 5001 {md5},y.jpg"));
        Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD", await RawWire.AskP3Async(Host, Peer, "END wrong 5001"));
        // Another port from the same address is another identity.
        Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD", await RawWire.AskP3Async(Host, Peer, "END pw 5002"));
        Assert.Contains($"{md5},x.jpg,{Peer}:5001", await RawWire.AskP3Async(Host, Peer, "LST"));

        // A datagram that looks like a reply is never answered (no reply loop between trackers or spoofed sources).
        foreach (var reply in new[] { "OK 1_REGISTERED_IMAGES", "OK CLIENT_FINISHED", "ERR INVALID_MESSAGE_FORMAT",
                     "ERR NO_IMAGES_AVAILABLE", $"{md5},x.jpg,127.0.0.1:5000", $"{md5.ToUpperInvariant()},y.jpg,{Peer}:1" })
        {
            var answer = await RawWire.AskP3Async(Host, Peer, Encoding.UTF8.GetBytes(reply), 4096, TimeSpan.FromSeconds(1.5));
            Assert.True(answer is null, $"'{reply}' was answered with '{answer}'");
        }

        // Still serving: the registration is intact and END removes it.
        Assert.Equal("OK CLIENT_FINISHED", await RawWire.AskP3Async(Host, Peer, "END pw 5001"));
        Assert.DoesNotContain($"{md5},x.jpg", await RawWire.AskP3Async(Host, Peer, "LST"));
    }

    [Fact]
    public async Task P4UnknownMd5AndJunkCloseWithoutDataAndTheListenerKeepsServing()
    {
        Assert.Empty(await RawWire.GetP4Async(Host, 13378, new string('0', 32)));
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, "HELLO WORLD"u8.ToArray()));
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, Encoding.ASCII.GetBytes("get " + new string('0', 32))));
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, Encoding.ASCII.GetBytes("GET  " + new string('0', 32))));
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, Encoding.ASCII.GetBytes("GET " + new string('z', 32))));
        // A byte that rules the request out closes it at once; a valid but incomplete one after the 2 s timeout.
        var started = DateTime.UtcNow;
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, "GET short"u8.ToArray()));
        var waited = DateTime.UtcNow - started;
        Assert.True(waited < AtOnce, $"'GET short' is invalid from its 5th byte on, closed after {waited.TotalSeconds:0.0} s");
        started = DateTime.UtcNow;
        Assert.Empty(await RawWire.GetP4RawAsync(Host, 13378, "GET 0123abcd"u8.ToArray()));
        waited = DateTime.UtcNow - started;
        Assert.True(waited >= TimeSpan.FromSeconds(1.5) && waited < TimeSpan.FromSeconds(15),
            $"an incomplete request is closed after the 2 s request timeout, not after {waited.TotalSeconds:0.0} s");

        var image = Images.Jpeg("p4-after-junk");
        await RawWire.SendP1Async(Host, image);
        Assert.Equal(image, await RawWire.GetP4Async(Host, 13378, Images.Md5(image)));
        // The md5 in either case; bytes after the 36th (a typed \r\n) are ignored.
        Assert.Equal(image, await RawWire.GetP4RawAsync(Host, 13378, Encoding.ASCII.GetBytes($"GET {Images.Md5(image).ToUpperInvariant()}\r\n")));
    }

    [Fact]
    public async Task HttpErrorsAreJson()
    {
        foreach (var (path, status) in new[]
                 {
                     ("api/nothing-here", 404), ($"api/images/{new string('0', 32)}", 404), ("api/images/xyz", 400),
                     ($"api/images/{new string('0', 32)}/content", 404), ("api/images/xyz/thumbnail", 400),
                     ("api/images?limit=0", 400), ("api/images?limit=abc", 400), ("api/images?limit=100000", 400),
                     ("api/images?after=999999999", 400), ("api/images?after=abc", 400),
                 })
        {
            using var response = await Http.GetAsync(new Uri(Node.HttpBase, path));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"{path}: {(int)response.StatusCode} {body}");
            Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
            using var json = JsonDocument.Parse(body);
            Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()), body);
        }
    }

    private static void AssertClosedAtOnce(RawWire.P1Outcome outcome, string what)
    {
        Assert.Equal(0, outcome.BytesFromNode);
        Assert.True(outcome.Elapsed < AtOnce, $"{what}: closed after {outcome.Elapsed.TotalSeconds:0.00} s, not at once");
    }

    private static byte[] Frame(byte[] image, int bytesToSend) => [.. P1Frame.Header((uint)image.Length), .. image.AsSpan(0, bytesToSend)];

    private async Task<int> CatalogCountAsync()
    {
        var stats = await Http.GetFromJsonAsync<JsonElement>(new Uri(Node.HttpBase, "api/stats"));
        return stats.GetProperty("images").GetInt32();
    }

    private int StoredFiles() => Files(f => Regex.IsMatch(Path.GetFileName(Path.GetDirectoryName(f)!), @"^\d{4}-\d{2}-\d{2}$"));

    private int TempFiles() => Files(f => f.Contains("/.tmp/"));

    /// <summary>No temp file left: a refused upload's temp file goes right after its refusal, so allow a moment.</summary>
    private async Task AssertNoTempFileAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (TempFiles() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(TempFiles() == 0, "temp files left behind: " + string.Join(", ",
            Directory.EnumerateFiles(Path.Combine(Node.DataDir, ".tmp"))));
    }

    private int Files(Func<string, bool> which) =>
        Directory.EnumerateFiles(Node.DataDir, "*", SearchOption.AllDirectories).Count(which);
}
