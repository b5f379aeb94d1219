using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// A P4 client (docs/protocols.md, P4): sends <c>GET &lt;md5&gt;</c> without a terminator, as the legacy peers
/// do, and reads the reply to EOF while computing its MD5. What counts as a hit is the caller's rule: only bytes
/// whose MD5 is the one asked for (a seed-003 peer answers an unknown md5 with the text <c>ERR File not found</c>).
/// </summary>
/// <param name="timeout">Longest wait for the next bytes.</param>
internal sealed class P4Client(TimeSpan timeout)
{
    private const int HeadBytes = 64;

    /// <summary>What a holder sent.</summary>
    /// <param name="Size">Bytes received.</param>
    /// <param name="Md5">Lowercase hex MD5 of them.</param>
    /// <param name="Head">Their first bytes (up to 64), to tell a text error or the image format.</param>
    public sealed record Received(long Size, string Md5, byte[] Head)
    {
        /// <summary>The reply as text if it is a short <c>ERR …</c> line, as a seed-003 peer sends for an unknown md5.</summary>
        public string? ErrorText()
        {
            string text = Encoding.ASCII.GetString(Head).Trim();
            return Size <= HeadBytes && text.StartsWith("ERR", StringComparison.Ordinal) ? text : null;
        }
    }

    /// <summary><c>GET md5</c> to <paramref name="holder"/>; the bytes go to <paramref name="sink"/> as they arrive.</summary>
    /// <param name="holder">The P4 endpoint.</param>
    /// <param name="md5">32 hex characters.</param>
    /// <param name="sink">Receives the bytes.</param>
    /// <param name="received">Called with the bytes received so far.</param>
    /// <param name="cancel">Ctrl-C.</param>
    public async Task<Received> GetAsync(Endpoint holder, string md5, Stream sink, Action<long> received, CancellationToken cancel)
    {
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var head = new byte[HeadBytes];
        long size = 0;
        using var socket = await Net.ConnectAsync(holder, timeout, cancel);
        try
        {
            await Net.SendAllAsync(socket, P4Request.Render(md5), timeout, cancel);
            var buffer = new byte[64 * 1024];
            for (int n; (n = await Net.WithTimeout(timeout, cancel, t => socket.ReceiveAsync(buffer, SocketFlags.None, t).AsTask())) > 0;)
            {
                if (size < HeadBytes) buffer.AsSpan(0, (int)Math.Min(n, HeadBytes - size)).CopyTo(head.AsSpan((int)size));
                digest.AppendData(buffer, 0, n);
                await Write(sink, buffer.AsMemory(0, n), cancel);
                size += n;
                received(size);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException && !cancel.IsCancellationRequested)
        {
            throw holder.Failure(e);
        }
        return new Received(size, Convert.ToHexStringLower(digest.GetHashAndReset()), head[..(int)Math.Min(size, HeadBytes)]);
    }

    private static async Task Write(Stream sink, ReadOnlyMemory<byte> bytes, CancellationToken cancel)
    {
        try
        {
            await sink.WriteAsync(bytes, cancel);
        }
        catch (IOException e)
        {
            throw CliFailure.LocalFile($"cannot write the received file ({e.Message})", e);
        }
    }
}
