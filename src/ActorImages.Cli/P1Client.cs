using System.Net.Sockets;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// P1 image ingest (docs/protocols.md, P1) as the seed-000 camera client does it: one TCP connection per image,
/// the 4-byte unsigned big-endian length, the bytes, a half-close; then it waits for the node to close, which a
/// node does only once the image is committed. A node that could not store a whole frame (it is in a minority, its
/// catalog is down, its disk is full) resets the connection instead (docs/protocols.md, P1 "Bad input"): a <see cref="Exit.NodeError"/>.
/// P1 has no reply, so a node that discards a damaged frame closes as after storing one; <c>send</c> therefore checks
/// images locally first.
/// </summary>
/// <param name="node">The node's P1 endpoint.</param>
/// <param name="timeout">Longest wait for the node to take more bytes or to close after the last one.</param>
internal sealed class P1Client(Endpoint node, TimeSpan timeout)
{
    private const int Chunk = 64 * 1024;

    /// <summary>Sends the file as one frame on its own connection and returns once the node closed it.</summary>
    /// <param name="file">An image file of at most 4 GiB − 1 bytes.</param>
    /// <param name="sent">Called with the bytes of the file written so far, after each chunk.</param>
    /// <param name="cancel">Ctrl-C.</param>
    /// <exception cref="CliFailure">the file cannot be read (<see cref="Exit.LocalFile"/>), the connection failed or
    /// timed out (<see cref="Exit.Connection"/>), or the node reset it after the whole frame: not stored
    /// (<see cref="Exit.NodeError"/>)</exception>
    public async Task SendAsync(string file, Action<long> sent, CancellationToken cancel)
    {
        long size = ImageFiles.Size(file);
        if (size > uint.MaxValue) throw CliFailure.LocalFile("too large for P1 (at most 4 GiB - 1 bytes): " + file);
        await using var input = OpenRead(file);
        using var socket = await Net.ConnectAsync(node, timeout, cancel);
        long written = 0;
        try
        {
            await Net.WithTimeout(timeout, cancel, t => socket.SendAsync(P1Frame.Header((uint)size), SocketFlags.None, t).AsTask());
            var buffer = new byte[Chunk];
            // Exactly the header's size: bytes of a file that grew meanwhile would be read as the next frame's header.
            while (written < size)
            {
                var n = await ReadAsync(input, buffer.AsMemory(0, (int)Math.Min(Chunk, size - written)), file, cancel);
                if (n == 0)
                {
                    // A short frame is discarded by the node, which then closes as after a stored one (P1 has no
                    // reply): reset, and say so, rather than report a send that stored nothing.
                    socket.LingerState = new LingerOption(true, 0);
                    throw CliFailure.LocalFile($"file shrank while being sent ({written} of {size} bytes): {file}; nothing was stored");
                }
                await Net.SendAllAsync(socket, buffer.AsMemory(0, n), timeout, cancel);
                written += n;
                sent(written);
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException && !cancel.IsCancellationRequested)
        {
            throw CliFailure.Connection($"connection lost: {node} after {written} of {size} bytes of {file} (a node "
                + "closes at once on an image over its max-image-bytes, 64 MiB by default)", e);
        }
        try
        {
            // P1 never writes: anything read is ignored; EOF is the node's "done".
            var ignored = new byte[512];
            while (await Net.WithTimeout(timeout, cancel, t => socket.ReceiveAsync(ignored, SocketFlags.None, t).AsTask()) > 0)
            {
            }
        }
        catch (SocketException reset) when (reset.SocketErrorCode == SocketError.ConnectionReset)
        {
            throw CliFailure.Node($"{node} reset the connection after all {size} bytes of {file}: the cluster could "
                + "not store it now (the node is in a minority, its catalog is down or its disk is full); nothing was stored, "
                + "send it again later");
        }
        catch (Exception e) when (e is not CliFailure && !cancel.IsCancellationRequested)
        {
            throw node.Failure(e);
        }
    }

    private static FileStream OpenRead(string file)
    {
        try
        {
            return File.OpenRead(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {file} ({e.Message})", e);
        }
    }

    private static async Task<int> ReadAsync(FileStream input, Memory<byte> buffer, string file, CancellationToken cancel)
    {
        try
        {
            return await input.ReadAsync(buffer, cancel);
        }
        catch (IOException e)
        {
            throw CliFailure.LocalFile($"cannot read: {file} ({e.Message})", e);
        }
    }
}
