using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ActorImages.Protocols;

namespace ActorImages.Faults.Tests;

/// <summary>Legacy-style clients over real sockets (docs/protocols.md) and the HTTP API, as the fault scenarios use
/// them. Every wait has a deadline: a node that was killed or cut off makes a call fail, never hang.</summary>
public static class Wire
{
    /// <summary>Idle connections close after 5 s, as <c>NodeProcess</c>'s do (DescriptorLimitTest counts the node's
    /// connections).</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>P1: one connection, length, bytes, half-close; returns once the node closed its side.</summary>
    /// <param name="host">The node.</param>
    /// <param name="image">The bytes.</param>
    /// <returns>True when the node closed in order (it stored the frame, or discarded a damaged one); false when it
    /// reset the connection: it could not store the frame (docs/protocols.md, P1 "Bad input").</returns>
    public static async Task<bool> SendP1Async(string host, byte[] image)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(IPAddress.Parse(host), 5001, timeout.Token);
        await socket.SendAsync(P1Frame.Header((uint)image.Length), timeout.Token);
        await socket.SendAsync(image, timeout.Token);
        socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[16];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0) { }
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }
    }

    /// <summary>P3: one request from a fresh socket, one reply datagram.</summary>
    /// <param name="host">The node.</param>
    /// <param name="request">The request text.</param>
    /// <param name="from">The local address to send from (the tracker knows a peer by it).</param>
    /// <param name="wait">How long to wait for the reply (default 15 s).</param>
    /// <returns>The reply text.</returns>
    /// <exception cref="OperationCanceledException">No reply in time.</exception>
    public static async Task<string> AskP3Async(string host, string request, string from, TimeSpan? wait = null)
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Parse(from), 0));
        await udp.SendAsync(Encoding.UTF8.GetBytes(request), new IPEndPoint(IPAddress.Parse(host), 13377));
        using var timeout = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(15));
        var reply = await udp.ReceiveAsync(timeout.Token);
        return Encoding.UTF8.GetString(reply.Buffer);
    }

    /// <summary>P3 as a person asks: the reply, or "" when none came within <paramref name="wait"/>.</summary>
    /// <param name="host">The node.</param>
    /// <param name="request">The request text.</param>
    /// <param name="from">The local address to send from.</param>
    /// <param name="wait">How long to wait.</param>
    /// <returns>The reply, or an empty string.</returns>
    public static async Task<string> TryP3Async(string host, string request, string from, TimeSpan wait)
    {
        try
        {
            return await AskP3Async(host, request, from, wait);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return "";
        }
    }

    /// <summary>P4: <c>GET &lt;md5&gt;</c>, read to EOF.</summary>
    /// <param name="host">The node.</param>
    /// <param name="md5">The image.</param>
    /// <returns>Everything the node sent before closing.</returns>
    public static async Task<byte[]> GetP4Async(string host, string md5)
    {
        var (bytes, reset) = await TryGetP4Async(host, md5);
        return reset ? throw new IOException($"{host} reset the P4 connection after {bytes.Length} bytes") : bytes;
    }

    /// <summary>P4: <c>GET &lt;md5&gt;</c>, read to EOF or to a reset.</summary>
    /// <param name="host">The node.</param>
    /// <param name="md5">The image.</param>
    /// <returns>Everything the node sent, and whether the connection ended in an error (a reset: the node says the
    /// transfer failed) rather than an orderly close.</returns>
    public static async Task<(byte[] Bytes, bool Reset)> TryGetP4Async(string host, string md5)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(IPAddress.Parse(host), 13378, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(P4Request.Render(md5), timeout.Token);
        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, timeout.Token);
            return (received.ToArray(), false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return (received.ToArray(), true);
        }
    }

    /// <summary>An HTTP GET of the node's API: the body, or null when it does not answer with 200.</summary>
    /// <param name="host">The node.</param>
    /// <param name="path">The path, e.g. <c>/api/images</c>.</param>
    /// <returns>The body or null.</returns>
    public static async Task<string?> GetAsync(string host, string path)
    {
        try
        {
            using var response = await Http.GetAsync($"http://{host}:8080{path}");
            return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>An HTTP GET returning bytes and status.</summary>
    /// <param name="host">The node.</param>
    /// <param name="path">The path.</param>
    /// <returns>The status code and the body.</returns>
    public static async Task<(int Status, byte[] Body)> GetBytesAsync(string host, string path)
    {
        using var response = await Http.GetAsync($"http://{host}:8080{path}");
        return ((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The hosts holding <paramref name="md5"/> as node <paramref name="host"/>'s catalog API lists them
    /// (empty when it does not answer).</summary>
    /// <param name="host">The node asked.</param>
    /// <param name="md5">The image.</param>
    /// <returns>The holders' hosts.</returns>
    public static async Task<IReadOnlyList<string>> HoldersAsync(string host, string md5)
    {
        var body = await GetAsync(host, $"/api/images/{md5}");
        if (body is null) return [];
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()!).ToList();
    }

    /// <summary>Every md5 in node <paramref name="host"/>'s catalog, through every page of <c>GET /api/images</c>.</summary>
    /// <param name="host">The node.</param>
    /// <returns>The md5s, one per entry (a duplicate entry shows twice); null when the node does not answer.</returns>
    public static async Task<List<string>?> ListedAsync(string host)
    {
        var md5s = new List<string>();
        string? after = null;
        do
        {
            var body = await GetAsync(host, "/api/images?limit=500" + (after is null ? "" : "&after=" + after));
            if (body is null) return null;
            using var doc = JsonDocument.Parse(body);
            md5s.AddRange(doc.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("md5").GetString()!));
            var next = doc.RootElement.GetProperty("next");
            after = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
        } while (after is not null);
        return md5s;
    }

    /// <summary>The tracker singleton's host as node <paramref name="host"/> sees it, or null.</summary>
    /// <param name="host">The node asked.</param>
    /// <returns>The host.</returns>
    public static async Task<string?> TrackerHostAsync(string host)
    {
        var body = await GetAsync(host, "/api/cluster");
        if (body is null) return null;
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("trackerHost", out var t) ? t.GetString() : null;
    }

    /// <summary>A counter's value in node <paramref name="host"/>'s <c>/metrics</c> (0 when absent).</summary>
    /// <param name="host">The node.</param>
    /// <param name="series">The series as printed, e.g. <c>actorimages_replica_copies_total{reason="repair",outcome="ok"}</c>.</param>
    /// <returns>The value, or null when the node does not answer.</returns>
    public static async Task<double?> MetricAsync(string host, string series)
    {
        var body = await GetAsync(host, "/metrics");
        return body is null ? null : MetricIn(body, series) ?? 0;
    }

    /// <summary>The value of <paramref name="series"/> (name and labels, as <c>/metrics</c> writes them) in a
    /// <c>/metrics</c> body, or null when the body has no such line.</summary>
    /// <param name="body">The text of <c>GET /metrics</c>.</param>
    /// <param name="series">e.g. <c>actorimages_connections_open{listener="http"}</c>.</param>
    public static double? MetricIn(string body, string series)
    {
        var line = body.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A P2 upload in a fresh session, sent again (up to <paramref name="attempts"/> times, a second apart)
    /// until the node answers SUCCESS: for scenarios that need the image stored before they start, where an upload
    /// refused for a passing reason (a node not yet seen as gone) is no failure of what they test.</summary>
    /// <param name="host">The node.</param>
    /// <param name="filename">The name.</param>
    /// <param name="bytes">The image.</param>
    /// <param name="attempts">How many tries.</param>
    /// <returns>A task that completes once the image is stored.</returns>
    /// <exception cref="InvalidOperationException">Never stored; the message holds the last reply.</exception>
    public static async Task UploadP2Async(string host, string filename, byte[] bytes, int attempts = 10)
    {
        var last = "";
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (attempt > 0) await Task.Delay(TimeSpan.FromSeconds(1));
            try
            {
                await using var p2 = await P2.ConnectAsync(host);
                await p2.CommandAsync("AUTH", "faults");
                var reply = await p2.UploadAsync(filename, bytes);
                if (reply.GetProperty("status").GetString() == "SUCCESS") return;
                last = reply.ToString();
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                last = e.Message;
            }
        }
        throw new InvalidOperationException($"{filename} was not stored by {host} in {attempts} tries: {last}");
    }

    /// <summary>A P2 session, waiting for replies as the seed-001 client does (skipping events).</summary>
    public sealed class P2 : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();

        private P2()
        {
        }

        /// <summary>Connects to <c>ws://host:8765/</c>.</summary>
        /// <param name="host">The node.</param>
        /// <returns>The session.</returns>
        public static async Task<P2> ConnectAsync(string host)
        {
            var p2 = new P2();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await p2._socket.ConnectAsync(new Uri($"ws://{host}:8765/"), timeout.Token);
            }
            catch
            {
                p2._socket.Dispose();
                throw;
            }
            return p2;
        }

        /// <summary>Sends one command and waits for its reply.</summary>
        /// <param name="cmd">The command.</param>
        /// <param name="args">Its arguments.</param>
        /// <returns>The reply.</returns>
        public async Task<JsonElement> CommandAsync(string cmd, params object[] args)
        {
            await SendTextAsync(JsonSerializer.Serialize(new { cmd, args }));
            return await ReplyAsync();
        }

        /// <summary>UPLOAD: the size as a string of digits, as the seed client sends it; then the bytes.</summary>
        /// <param name="filename">The name.</param>
        /// <param name="bytes">The image.</param>
        /// <returns>The final reply (SUCCESS or ERROR), or the ERROR that came instead of READY.</returns>
        public async Task<JsonElement> UploadAsync(string filename, byte[] bytes)
        {
            var ready = await CommandAsync("UPLOAD", filename, bytes.Length.ToString());
            if (ready.GetProperty("status").GetString() != "READY") return ready;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, timeout.Token);
            return await ReplyAsync();
        }

        /// <summary>DOWNLOAD: <c>SIZE_INFO</c>, the one binary message, then the final reply (SUCCESS or ERROR).</summary>
        /// <param name="filename">The name.</param>
        /// <returns>The first reply (SIZE_INFO, or the ERROR instead of it), the bytes of the binary message (empty
        /// without SIZE_INFO) and the final reply.</returns>
        public async Task<(JsonElement Info, byte[] Bytes, JsonElement Final)> DownloadAsync(string filename)
        {
            var info = await CommandAsync("DOWNLOAD", filename);
            if (info.GetProperty("status").GetString() != "SIZE_INFO") return (info, [], info);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var buffer = new byte[64 * 1024];
            var bytes = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (r.MessageType == WebSocketMessageType.Close) throw new WebSocketException("the node closed the session");
                if (r.MessageType == WebSocketMessageType.Binary) bytes.Write(buffer, 0, r.Count);
            } while (!(r.EndOfMessage && r.MessageType == WebSocketMessageType.Binary));
            return (info, bytes.ToArray(), await ReplyAsync());
        }

        private async Task SendTextAsync(string json)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, timeout.Token);
        }

        private async Task<JsonElement> ReplyAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var all = new MemoryStream();
                WebSocketReceiveResult r;
                do
                {
                    r = await _socket.ReceiveAsync(buffer, timeout.Token);
                    if (r.MessageType == WebSocketMessageType.Close) throw new WebSocketException("the node closed the session");
                    all.Write(buffer, 0, r.Count);
                } while (!r.EndOfMessage);
                if (r.MessageType != WebSocketMessageType.Text) continue;
                var json = JsonDocument.Parse(all.ToArray()).RootElement.Clone();
                if (!json.TryGetProperty("event", out _)) return json;
            }
        }

        /// <inheritdoc />
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
            _socket.Dispose();
        }
    }
}
