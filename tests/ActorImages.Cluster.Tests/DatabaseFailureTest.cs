using System.Net.Http.Json;
using System.Text.Json;
using ActorImages.Protocols;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// The database can fail (README "Failure and recovery"): PostgreSQL killed during uploads — writes are refused with
/// the protocol's error, LST keeps answering, the nodes stay up, nothing acknowledged is lost, and everything comes
/// back by itself within seconds of the database's return.
/// </summary>
public sealed class DatabaseFailureTest
{
    [Fact]
    public async Task KillingPostgresDuringUploadsLosesNothingAcknowledgedAndEverythingComesBack()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var cluster = await TestCluster.StartAsync(subnet: 21, count: 2, dbUrl: postgres.Url);
        var acknowledged = new List<byte[]>();
        var refused = 0;
        await using var p2 = await LegacyWire.P2.ConnectAsync(cluster[1].Host);
        await p2.SendAsync("AUTH", "dbfail");
        await p2.ReplyAsync();

        async Task<bool> UploadAsync(int i)
        {
            var image = Images.Jpeg($"dbfail-{i}");
            await p2.SendAsync("UPLOAD", $"db{i}.jpg", image.Length.ToString());
            Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
            await p2.SendBinaryAsync(image);
            var reply = await p2.ReplyAsync();
            if (reply.GetProperty("status").GetString() == "SUCCESS")
            {
                acknowledged.Add(image);
                return true;
            }
            Assert.StartsWith("Falha no upload: ", reply.GetProperty("message").GetString());
            refused++;
            return false;
        }

        for (var i = 0; i < 10; i++) Assert.True(await UploadAsync(i));
        var storedP1 = Images.Jpeg("dbfail-p1-stored");
        var orderly = await RawWire.SendP1Async(cluster[1].Host, storedP1);
        Assert.False(orderly.Reset, "a stored P1 frame ends with an orderly close");
        acknowledged.Add(storedP1);
        Assert.Equal("OK 0_REGISTERED_IMAGES", await LegacyWire.AskP3Async(cluster[2].Host, "REG pw 41000 ''"));

        postgres.Kill();
        var down = DateTime.UtcNow;
        for (var i = 10; DateTime.UtcNow - down < TimeSpan.FromSeconds(5); i++) await UploadAsync(i);
        Assert.True(refused > 0, "no upload was refused while the database was down");
        var refusedP1 = await RawWire.SendP1Async(cluster[1].Host, Images.Jpeg("dbfail-p1-refused"));
        Assert.True(refusedP1.Reset, "a P1 frame the cluster could not store ends with a reset");
        Assert.Equal(0, refusedP1.BytesFromNode);
        // AUTH has one reply even when its HISTORY cannot be read: the next command's reply is that command's.
        await using (var late = await LegacyWire.P2.ConnectAsync(cluster[2].Host))
        {
            await late.SendAsync("AUTH", "late");
            Assert.Equal("SUCCESS", (await late.ReplyAsync()).GetProperty("status").GetString());
            await late.SendAsync("LIST");
            var listed = await late.ReplyAsync();
            Assert.True(listed.TryGetProperty("cmd", out var cmd) && cmd.GetString() == "LIST", listed.ToString());
        }
        Assert.Contains(Images.Md5(acknowledged[0]), await LegacyWire.AskP3Async(cluster[2].Host, "LST"));
        Assert.StartsWith("ERR ", await LegacyWire.AskP3Async(cluster[2].Host, "REG pw 41001 ''"));

        await postgres.RestartAsync();
        var back = DateTime.UtcNow;
        var ok = false;
        for (var i = 1000; !ok && DateTime.UtcNow - back < TimeSpan.FromSeconds(30); i++)
        {
            ok = await UploadAsync(i);
            if (!ok) await Task.Delay(500);
        }
        Assert.True(ok, "uploads did not come back within 30 s of the database\n" + cluster.Logs());
        Assert.True(DateTime.UtcNow - back < TimeSpan.FromSeconds(15), $"back after {DateTime.UtcNow - back}");
        Assert.Equal("OK 1_REGISTERED_IMAGES", await PollAsync(() => LegacyWire.AskP3Async(cluster[2].Host,
            "REG pw 41002 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,x.jpg'"), r => r.StartsWith("OK")));
        Assert.Contains(",x.jpg,", await LegacyWire.AskP3Async(cluster[2].Host, "LST"));

        using var http = new HttpClient { BaseAddress = cluster[2].HttpBase };
        foreach (var image in acknowledged)
        {
            var md5 = Images.Md5(image);
            Assert.Equal(image, await http.GetByteArrayAsync($"api/images/{md5}/content"));
        }
        Assert.True(cluster.Nodes.All(n => n.IsRunning), cluster.Logs());
    }

    /// <summary>
    /// A P1 frame whose deadline passes while its entry waits for the database (README "Acknowledged means durable";
    /// docs/design.md, "The path of one image"): the frame arrives whole, the catalog hangs (PostgreSQL frozen) while
    /// its entry is in the Registry's batch, and the frame's deadline (p1.idle-timeout 2 s) passes meanwhile. Once the
    /// database is back the batch commits, so the files must still be there: the image is listed and its bytes are
    /// served, never an entry without a copy.
    /// </summary>
    [Fact]
    public async Task AFrameWhoseDeadlinePassesWhileItsEntryCommitsKeepsItsCopies()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var cluster = await TestCluster.StartAsync(subnet: 39, count: 1, dbUrl: postgres.Url,
            extra: new Dictionary<string, string> { ["ACTORIMAGES_P1_IDLE_TIMEOUT"] = "2s" });
        // A 1×1 GIF with a unique trailer: small, so the frame's deadline is the idle timeout plus a few ms.
        byte[] image =
        [
            .. Convert.FromHexString("474946383961010001008000000000000000FFFFFF21F90401000000002C00000000010001000002024401003B"),
            .. System.Text.Encoding.ASCII.GetBytes($"trailer:{Guid.NewGuid():N}"),
        ];
        var md5 = Images.Md5(image);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Parse(cluster[1].Host), 5001);
        // The header and the bytes that name the format: the node reserves the stored name while the database answers.
        await socket.SendAsync((byte[])[.. P1Frame.Header((uint)image.Length), .. image[..16]]);
        await Task.Delay(TimeSpan.FromSeconds(1));
        postgres.Freeze();
        try
        {
            await socket.SendAsync(image.AsMemory(16));
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            // The frame's deadline passes (2 s after its header) while its entry waits in the batch.
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            postgres.Thaw();
        }
        var buffer = new byte[16];
        using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, closing.Token) > 0)
            {
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // a reset ends it too; what counts is what the catalog and the disk hold
        }

        using var http = new HttpClient { BaseAddress = cluster[1].HttpBase };
        var listed = await PollAsync(async () => (await http.GetAsync($"api/images/{md5}")).StatusCode.ToString(), s => s == "OK");
        Assert.True(listed == "OK", "the batch never committed\n" + cluster.Logs());
        using var content = await http.GetAsync($"api/images/{md5}/content");
        Assert.True(content.IsSuccessStatusCode, $"the catalog lists {md5} but its copy is gone: {(int)content.StatusCode}\n" + cluster.Logs());
        Assert.Equal(image, await content.Content.ReadAsByteArrayAsync());
    }

    private static async Task<string> PollAsync(Func<Task<string>> ask, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var last = await ask();
        while (!done(last) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            last = await ask();
        }
        return last;
    }
}
