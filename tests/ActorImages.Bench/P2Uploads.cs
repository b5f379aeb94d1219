using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace ActorImages.Bench;

/// <summary>When the P2 load generator deflates its uploads (<c>bin/bench --p2-deflate</c>).</summary>
internal enum P2Deflate
{
    /// <summary>
    /// Before the window: the bytes of every ~900 KB PNG but its label are deflated once, the label per upload (a few
    /// dozen bytes), so that the generator, which shares the two cores with the nodes, does not spend a core on
    /// what the seed-001 client spends on its own machine. The wire carries the same kind of message: a
    /// permessage-deflate message of the whole file, which the node inflates.
    /// </summary>
    Ahead,

    /// <summary>Each upload deflated whole as it is sent, as the seed-001 client does (about 15 ms of the generator's CPU
    /// per 900 KB upload on this machine).</summary>
    Live,
}

/// <summary>One upload of the P2 load: what the client sends as one binary message.</summary>
/// <param name="Size">The file's size in bytes (the <c>UPLOAD</c> command's size).</param>
/// <param name="Md5">The file's lowercase hex MD5, which its download must have.</param>
/// <param name="Plain">The file's bytes, in pieces that joined make it.</param>
/// <param name="Deflated">The message's permessage-deflate payload (RFC 7692 §7.2.1: raw DEFLATE data ending with a
/// sync flush, its final <c>00 00 FF FF</c> removed), in pieces that joined make it.</param>
internal sealed record P2Upload(int Size, string Md5, ReadOnlyMemory<byte>[] Plain, ReadOnlyMemory<byte>[] Deflated)
{
    /// <summary>Deflates <paramref name="bytes"/> whole, as one message: what a client library does at send time.</summary>
    /// <param name="bytes">The message.</param>
    /// <returns>The upload, its one deflated piece the message's payload.</returns>
    public static P2Upload Whole(byte[] bytes) =>
        new(bytes.Length, BenchImages.Md5(bytes), [bytes], [P2Uploads.SyncFlushed(bytes)[..^4]]);

    /// <summary>The length in bytes of the pieces of <paramref name="pieces"/> joined.</summary>
    public static int Length(ReadOnlyMemory<byte>[] pieces) => pieces.Sum(p => p.Length);
}

/// <summary>
/// The P2 load's distinct ~900 KB PNGs (<see cref="BenchImages.LargePng"/>: astronaut.png, then random padding
/// over whose start <see cref="BenchImages.Trailer"/> writes a label) and their permessage-deflate payloads. A payload made <see cref="P2Deflate.Ahead"/> joins three pieces
/// deflated each on its own and ended with a sync flush — the PNG (once for the run), the label (per upload), the
/// padding after the label (once per label length) — which is one valid DEFLATE stream, since a sync flush ends on a
/// byte boundary with no final block; the node inflates it as it would a client library's. Safe for concurrent use.
/// </summary>
internal sealed class P2Uploads
{
    private readonly byte[] _padded;
    private readonly int _pngLength;
    private readonly P2Deflate _mode;
    private readonly ReadOnlyMemory<byte> _pngDeflated;
    private readonly IncrementalHash _pngMd5;
    private readonly ConcurrentDictionary<int, ReadOnlyMemory<byte>> _tailsDeflated = new();

    /// <summary>Prepares the uploads of one run; in <see cref="P2Deflate.Ahead"/> mode deflates the PNG now.</summary>
    /// <param name="padded">The padded PNG (<see cref="BenchImages.LargePng"/>).</param>
    /// <param name="pngLength">Where the PNG proper ends in it, in bytes.</param>
    /// <param name="mode">When uploads are deflated.</param>
    public P2Uploads(byte[] padded, int pngLength, P2Deflate mode)
    {
        _padded = padded;
        _pngLength = pngLength;
        _mode = mode;
        _pngDeflated = mode == P2Deflate.Ahead ? SyncFlushed(padded.AsSpan(0, pngLength)) : ReadOnlyMemory<byte>.Empty;
        _pngMd5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        _pngMd5.AppendData(padded, 0, pngLength);
    }

    /// <summary>The size of every upload in bytes.</summary>
    public int Size => _padded.Length;

    /// <summary>The upload labelled <paramref name="label"/>: the padded PNG with <see cref="BenchImages.Trailer"/> of the
    /// label written over the start of its padding (the same size, another md5).</summary>
    /// <param name="label">Makes the file distinct (its name, say); ASCII.</param>
    /// <returns>The upload; in <see cref="P2Deflate.Live"/> mode deflated now, whole.</returns>
    public P2Upload For(string label)
    {
        byte[] labelBytes = Encoding.ASCII.GetBytes(BenchImages.Trailer(label));
        int tailStart = _pngLength + labelBytes.Length;
        ReadOnlyMemory<byte>[] plain = [_padded.AsMemory(0, _pngLength), labelBytes, _padded.AsMemory(tailStart)];
        string md5;
        lock (_pngMd5)
        {
            using var hash = _pngMd5.Clone();
            hash.AppendData(labelBytes);
            hash.AppendData(_padded, tailStart, _padded.Length - tailStart);
            md5 = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        if (_mode == P2Deflate.Live)
        {
            var whole = (byte[])_padded.Clone();
            labelBytes.CopyTo(whole, _pngLength);
            return new P2Upload(whole.Length, md5, [whole], [SyncFlushed(whole)[..^4]]);
        }
        var tail = _tailsDeflated.GetOrAdd(tailStart, start => SyncFlushed(_padded.AsSpan(start))[..^4]);
        return new P2Upload(_padded.Length, md5, plain, [_pngDeflated, SyncFlushed(labelBytes), tail]);
    }

    /// <summary>
    /// Raw DEFLATE of <paramref name="bytes"/> at zlib's default level 6 (the <c>websockets</c> library's), ended with
    /// a sync flush (<c>00 00 FF FF</c>, RFC 7692 §7.2.1) and no final block, so that another such piece may follow.
    /// </summary>
    /// <param name="bytes">What to deflate.</param>
    /// <returns>The DEFLATE data, its last four bytes <c>00 00 FF FF</c>.</returns>
    /// <exception cref="InvalidOperationException">The compressor did not end with a sync flush.</exception>
    public static byte[] SyncFlushed(ReadOnlySpan<byte> bytes)
    {
        var output = new MemoryStream(bytes.Length / 2 + 64);
        int end;
        using (var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = 6 }, leaveOpen: true))
        {
            deflate.Write(bytes);
            deflate.Flush(); // Z_SYNC_FLUSH: everything so far reaches the stream, ending with 00 00 FF FF
            end = (int)output.Length; // disposing adds a final block, which is left out
        }
        byte[] all = output.GetBuffer();
        return end >= 4 && all.AsSpan(end - 4, 4).SequenceEqual((byte[])[0, 0, 0xFF, 0xFF])
            ? all.AsSpan(0, end).ToArray()
            : throw new InvalidOperationException("the compressor's output does not end with a sync flush");
    }
}
