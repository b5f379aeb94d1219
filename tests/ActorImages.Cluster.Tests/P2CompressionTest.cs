using System.Net;
using System.Text.Json;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The one-node cluster of <see cref="P2CompressionTest"/> on 127.0.37.1.</summary>
public sealed class P2CompressionCluster() : ClusterFixture(subnet: 37, count: 1);

/// <summary>
/// P2 under permessage-deflate, frame by frame on a raw socket (docs/protocols.md, P2, "Compression"): the node accepts
/// the offer the seed-001 client's library makes, compresses its small replies, and sends a file's bytes uncompressed
/// (RSV1 clear), even a PNG that deflate would shrink: image bytes gain little, and deflating every download would cost
/// the node CPU on the hot path (issue 10). The downloaded bytes are the stored ones, exactly.
/// </summary>
public sealed class P2CompressionTest(P2CompressionCluster fixture) : IClassFixture<P2CompressionCluster>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private string Host => fixture.Cluster[1].Host;

    [Theory]
    [InlineData("astronaut.png")] // 791,555 bytes that deflate to 57 %
    [InlineData("rocket.jpg")]
    public async Task AFileGoesUncompressedWhileSmallRepliesAreCompressed(string image)
    {
        var bytes = TestImages.Bytes(image);
        var name = $"compression-{Guid.NewGuid():N}{Path.GetExtension(image)}";
        using (var created = await Http.PostAsync($"http://{Host}:8080/api/images?filename={name}&uploader=zoe", new ByteArrayContent(bytes)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // Each compressed message on its own (server_no_context_takeover), so that the test can inflate each alone.
        await using var p2 = await RawWebSocket.ConnectAsync(Host, 8765, "permessage-deflate; server_no_context_takeover; client_max_window_bits");
        Assert.StartsWith("HTTP/1.1 101", p2.Handshake);
        Assert.Contains("permessage-deflate", p2.Handshake, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("server_no_context_takeover", p2.Handshake, StringComparison.OrdinalIgnoreCase);

        await p2.SendTextAsync("""{"cmd":"AUTH","args":["zoe"]}""");
        var auth = await ReplyAsync(p2);
        Assert.Equal("""{"status":"SUCCESS","message":"Autenticado como zoe"}""", auth.Text);
        Assert.True(auth.Compressed, "a small reply is compressed: the offer was taken");

        await p2.SendTextAsync($$"""{"cmd":"DOWNLOAD","args":["{{name}}"]}""");
        var sizeInfo = await ReplyAsync(p2);
        Assert.Equal($$"""{"status":"SIZE_INFO","size":{{bytes.Length}},"filename":"{{name}}","mode":"DOWNLOAD"}""", sizeInfo.Text);
        var file = await p2.ReadMessageAsync();
        Assert.Equal(2, file.Opcode);
        Assert.False(file.Compressed, $"the file's {file.Frames} frame(s) were sent compressed");
        Assert.Equal(bytes, file.Payload);
        var done = await ReplyAsync(p2);
        Assert.Equal($$"""{"status":"SUCCESS","message":"Transferência de {{name}} concluída."}""", done.Text);
    }

    /// <summary>The next text message that is a reply, not an event (<c>HISTORY</c>, <c>NEW_UPLOAD</c>).</summary>
    private static async Task<RawWebSocketMessage> ReplyAsync(RawWebSocket p2)
    {
        while (true)
        {
            var message = await p2.ReadMessageAsync();
            Assert.Equal(1, message.Opcode);
            using var json = JsonDocument.Parse(message.Payload);
            if (!json.RootElement.TryGetProperty("event", out _)) return message;
        }
    }
}
