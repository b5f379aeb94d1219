using System.Net.Sockets;

namespace ActorImages.Protocols;

/// <summary>
/// The accept loop of a bounded TCP listener, shared by the node's P1 and P4 gateways and the CLI's P4 peer server
/// (every listener is bounded in count; its handler bounds size and time): accepts connections, closes at once any
/// beyond the limit, serves each on a thread-pool thread and closes it afterwards. Refusals are reported once per run of
/// them, with their count when a connection is served again, so a flood of connections cannot flood the log. After an accept that failed for
/// want of a resource (out of file descriptors or buffers: EMFILE, ENFILE, ENOBUFS) it waits <see cref="Pause"/>
/// before accepting again, since accept fails again at once until some are freed: without the pause a node limited to
/// 1,024 descriptors with 1,100 connections held open spent both cores in this loop and logged over 90,000 lines in
/// 5 s. Connections in the listen backlog wait meanwhile and are served once descriptors are free.
/// </summary>
public static class AcceptLoop
{
    /// <summary>The wait after an accept that failed for want of a resource: 100 ms.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    /// <summary>What the loop reports.</summary>
    public enum Event
    {
        /// <summary>The first connection of a run of them over the limit was closed at once; the text names the peer.
        /// The loop reports nothing more of the run until a connection is served again.</summary>
        Refused,

        /// <summary>A connection was served after refused ones; the text is how many were refused.</summary>
        Admitted,

        /// <summary>The first failed accept of a run of them; the text is the error. The loop retries every
        /// <see cref="Pause"/> and reports nothing more until an accept succeeds.</summary>
        Failing,

        /// <summary>An accept succeeded after failed ones; the text is how many failed.</summary>
        Recovered,
    }

    /// <summary>The counts of one loop, readable from any thread while it runs (the node exports them on
    /// <c>/metrics</c>: README, "HTTP API").</summary>
    public sealed class Tally
    {
        private int _open;
        private long _refused;

        /// <summary>Connections being served now.</summary>
        public int Open => Volatile.Read(ref _open);

        /// <summary>Connections closed at once because <see cref="Open"/> was at the limit, since the loop started.</summary>
        public long Refused => Interlocked.Read(ref _refused);

        internal int Enter() => Interlocked.Increment(ref _open);

        internal void Leave() => Interlocked.Decrement(ref _open);

        internal void Refuse()
        {
            Interlocked.Decrement(ref _open);
            Interlocked.Increment(ref _refused);
        }
    }

    /// <summary>Accepts on <paramref name="listener"/> (bound and listening) until <paramref name="ct"/> is cancelled
    /// or the listener is closed.</summary>
    /// <param name="listener">The listening socket; the caller owns it.</param>
    /// <param name="maxConnections">Most connections served at a time; more are closed at once.</param>
    /// <param name="serve">Serves one connection; it must not throw (exceptions are its own to log). The loop
    /// disposes the socket when it returns.</param>
    /// <param name="report">Receives each <see cref="Event"/> with its text.</param>
    /// <param name="ct">Ends the loop.</param>
    /// <param name="tally">Counts open and refused connections for the caller to read; null: counted privately.</param>
    /// <returns>A task that completes when the loop ends.</returns>
    public static async Task RunAsync(Socket listener, int maxConnections, Func<Socket, Task> serve,
        Action<Event, string> report, CancellationToken ct, Tally? tally = null)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        var counts = tally ?? new Tally();
        var failed = 0;
        var refused = 0;
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue; // that connection went before it was accepted; the next one may be fine
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return; // the listener was closed under the pending accept
            }
            catch (SocketException e)
            {
                if (failed++ == 0) report(Event.Failing, e.Message);
                try
                {
                    await Task.Delay(Pause, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            if (failed > 0)
            {
                report(Event.Recovered, failed.ToString(System.Globalization.CultureInfo.InvariantCulture));
                failed = 0;
            }
            if (counts.Enter() > maxConnections)
            {
                counts.Refuse();
                if (refused++ == 0) report(Event.Refused, Peer(socket));
                socket.Dispose();
                continue;
            }
            if (refused > 0)
            {
                report(Event.Admitted, refused.ToString(System.Globalization.CultureInfo.InvariantCulture));
                refused = 0;
            }
            // On a thread-pool thread, not inline: a handler runs synchronously until its first wait, which for a P1
            // frame already in the socket's buffer is the whole read, write and fsync of an image, during which this
            // loop would accept nobody.
            _ = Task.Run(async () =>
            {
                try
                {
                    await serve(socket).ConfigureAwait(false);
                }
                finally
                {
                    // The slot first: a client that sees this close may connect again at once.
                    counts.Leave();
                    socket.Dispose();
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>The peer's endpoint as text, or "?" once the socket is gone.</summary>
    /// <param name="socket">The socket.</param>
    /// <returns>The text.</returns>
    public static string Peer(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            return socket.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (ObjectDisposedException)
        {
            return "?";
        }
    }
}
