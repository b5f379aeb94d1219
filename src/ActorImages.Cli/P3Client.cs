using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// A P3 tracker client (docs/protocols.md, P3): each request one UDP datagram without a line terminator, sent from
/// a fresh source port as the legacy peers do; the reply one datagram. UDP may lose either, so a request is sent
/// again when no reply came (waits of 2, 4 and 8 s, or shorter ones given); every request the CLI sends may be
/// repeated safely (REG replaces, an END of a gone identity is taken as done). The socket is connected to the
/// tracker, so a port where nothing listens shows as "connection refused" (ICMP port unreachable).
/// </summary>
/// <param name="tracker">The node's P3 endpoint.</param>
/// <param name="local">The address to send from (the tracker knows a peer by source IP), or null for the OS's.</param>
/// <param name="waits">Waits for a reply before each attempt; default 2, 4 and 8 s.</param>
internal sealed class P3Client(Endpoint tracker, IPAddress? local = null, TimeSpan[]? waits = null)
{
    /// <summary>The largest UDP payload over IPv4, 65,507 bytes: a REG longer than this cannot be sent.</summary>
    public const int MaxDatagram = 65_507;

    private const int MaxPages = 100_000;

    private readonly TimeSpan[] _waits = waits ?? [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    /// <summary>
    /// <c>LST</c>, or <c>LST &lt;offset&gt;</c> for offset &gt; 0: one page of at most 4,096 bytes.
    /// <c>ERR NO_IMAGES_AVAILABLE</c> is an empty page.
    /// </summary>
    /// <exception cref="CliFailure"><see cref="Exit.NodeError"/> for any other <c>ERR</c> or an unreadable reply.</exception>
    public async Task<IReadOnlyList<LstItem>> ListAsync(int offset, CancellationToken cancel)
    {
        byte[] reply = await RequestAsync(new P3Request.Lst(offset == 0 ? null : offset), cancel);
        if (P3Reply.TryParseListing(reply, out var items)) return items;
        throw CliFailure.Node($"{tracker} LST: {Encoding.UTF8.GetString(reply)}");
    }

    /// <summary>
    /// Every page of <c>LST</c>, walking <c>LST &lt;offset&gt;</c> until the tracker has no more. A tracker without
    /// that extension (a seed's) answers it with <c>ERR INVALID_MESSAGE_FORMAT</c> or repeats its first page: the
    /// walk then ends with what it has.
    /// </summary>
    public async Task<IReadOnlyList<LstItem>> ListAllAsync(CancellationToken cancel)
    {
        var all = new List<LstItem>();
        await foreach (var page in PagesAsync(cancel))
        {
            all.AddRange(page);
        }
        return all;
    }

    /// <summary>The pages of <c>LST</c> one by one, so a search can stop at the page that holds its md5.</summary>
    public async IAsyncEnumerable<IReadOnlyList<LstItem>> PagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        int offset = 0;
        LstItem? first = null;
        for (int page = 0; page < MaxPages; page++)
        {
            IReadOnlyList<LstItem> items;
            if (offset == 0)
            {
                items = await ListAsync(0, cancel);
            }
            else
            {
                byte[] reply = await RequestAsync(new P3Request.Lst(offset), cancel);
                if (!P3Reply.TryParseListing(reply, out items) || items.Count > 0 && items[0].Equals(first)) yield break;
            }
            if (items.Count == 0) yield break;
            first ??= items[0];
            offset += items.Count;
            yield return items;
        }
    }

    /// <summary><c>REG &lt;password&gt; &lt;port&gt; md5,name;…</c>: registers <paramref name="images"/> as held here.</summary>
    /// <returns>The tracker's reply, <c>OK &lt;n&gt;_REGISTERED_IMAGES</c>.</returns>
    /// <exception cref="CliFailure"><see cref="Exit.NodeError"/> for an ERR reply; <see cref="Exit.LocalFile"/> if
    /// the list does not fit in one datagram.</exception>
    public async Task<string> RegisterAsync(string password, int port, IReadOnlyList<P3Image> images, CancellationToken cancel)
    {
        var request = new P3Request.Reg(password, port, images);
        int bytes = request.ToDatagram().Length;
        if (bytes > MaxDatagram)
        {
            throw CliFailure.LocalFile($"too many images for one REG datagram ({bytes} bytes, at most {MaxDatagram}): register a smaller folder");
        }
        string reply = Encoding.UTF8.GetString(await RequestAsync(request, cancel));
        return reply.StartsWith("OK ", StringComparison.Ordinal) ? reply : throw CliFailure.Node($"{tracker} REG: {reply}");
    }

    /// <summary><c>END &lt;password&gt; &lt;port&gt;</c>: removes this host's registration at that port.</summary>
    /// <returns>The tracker's reply, <c>OK CLIENT_FINISHED</c>.</returns>
    public async Task<string> EndAsync(string password, int port, CancellationToken cancel)
    {
        string reply = Encoding.UTF8.GetString(await RequestAsync(new P3Request.End(password, port), cancel));
        return reply.StartsWith("OK ", StringComparison.Ordinal) ? reply : throw CliFailure.Node($"{tracker} END: {reply}");
    }

    private async Task<byte[]> RequestAsync(P3Request request, CancellationToken cancel)
    {
        byte[] datagram = request.ToDatagram();
        var buffer = new byte[MaxDatagram];
        for (int attempt = 0; attempt < _waits.Length; attempt++)
        {
            try
            {
                using var socket = new Socket(SocketType.Dgram, ProtocolType.Udp);
                if (local is not null) socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(tracker.Host, tracker.Port, cancel);
                await socket.SendAsync(datagram, SocketFlags.None, cancel);
                int n = await Net.WithTimeout(_waits[attempt], cancel, t => socket.ReceiveAsync(buffer, SocketFlags.None, t).AsTask());
                byte[] reply = buffer[..n];
                if (attempt > 0 && request is P3Request.End && Encoding.UTF8.GetString(reply) == P3Reply.WrongPasswordText)
                {
                    return P3Reply.Finished(); // an earlier END arrived; its reply was lost
                }
                return reply;
            }
            catch (TimeoutException)
            {
                // lost on the way there or back: send again
            }
            catch (Exception e) when (e is SocketException && !cancel.IsCancellationRequested)
            {
                throw tracker.Failure(e);
            }
        }
        string command = Encoding.UTF8.GetString(datagram).Split(' ')[0];
        throw CliFailure.Connection($"timed out: {tracker} (no reply to {command} in {_waits.Sum(w => w.TotalSeconds):0} s)");
    }
}
