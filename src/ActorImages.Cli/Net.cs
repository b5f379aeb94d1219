using System.Net.Sockets;

namespace ActorImages.Cli;

/// <summary>Small socket helpers shared by the TCP clients: connect, send all, and a per-operation timeout.</summary>
internal static class Net
{
    /// <summary>Connection attempts give up after this long (5 s) or <c>--timeout</c>, whichever is shorter.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A TCP connection to <paramref name="endpoint"/>, or a <see cref="CliFailure"/> naming it.</summary>
    public static async Task<Socket> ConnectAsync(Endpoint endpoint, TimeSpan timeout, CancellationToken cancel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var limit = timeout < ConnectTimeout ? timeout : ConnectTimeout;
            await WithTimeout(limit, cancel, t => socket.ConnectAsync(endpoint.Host, endpoint.Port, t).AsTask());
            return socket;
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw endpoint.Failure(e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends every byte of <paramref name="bytes"/>, each send within <paramref name="timeout"/>.</summary>
    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, TimeSpan timeout, CancellationToken cancel)
    {
        while (!bytes.IsEmpty)
        {
            int n = await WithTimeout(timeout, cancel, t => socket.SendAsync(bytes, SocketFlags.None, t).AsTask());
            bytes = bytes[n..];
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> with a token cancelled after <paramref name="timeout"/> or by
    /// <paramref name="cancel"/>; a timeout surfaces as <see cref="TimeoutException"/>.
    /// </summary>
    public static Task<T> WithTimeout<T>(TimeSpan timeout, CancellationToken cancel, Func<CancellationToken, Task<T>> operation) =>
        WithIdleTimeout(timeout, cancel, (t, _) => operation(t)); // an operation that never reports progress

    /// <summary>
    /// Runs <paramref name="operation"/> with a token cancelled once <paramref name="timeout"/> passes without progress
    /// (the operation calls the action it is given whenever bytes moved) or by <paramref name="cancel"/>: a transfer of
    /// any size at any rate goes on while it moves, as <c>--timeout</c> ("longest wait for an answer or for the next
    /// bytes") says, and a stalled one ends. A timeout surfaces as <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task<T> WithIdleTimeout<T>(TimeSpan timeout, CancellationToken cancel,
        Func<CancellationToken, Action, Task<T>> operation)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            return await operation(limit.Token, () => limit.CancelAfter(timeout));
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"no progress within {timeout.TotalSeconds:0} s", e);
        }
    }

    /// <summary>As <see cref="WithTimeout{T}"/> for an operation without a result.</summary>
    public static Task WithTimeout(TimeSpan timeout, CancellationToken cancel, Func<CancellationToken, Task> operation) =>
        WithTimeout(timeout, cancel, async t =>
        {
            await operation(t);
            return true;
        });
}
