using System.Buffers;
using System.Security.Cryptography;

namespace ActorImages.Storage;

/// <summary>A stored copy whose bytes are not the catalog's: another SHA-256, or fewer or more bytes than the
/// catalog's size. Found while the copy is read (<see cref="VerifyingStream"/>).</summary>
/// <param name="message">what differs</param>
public sealed class CorruptBlobException(string message) : IOException(message);

/// <summary>
/// A read-only stream over a copy of a blob that hashes the bytes as they pass and compares the SHA-256 with the
/// expected one at the end, so a copy is read once, while it is served, rather than once to check it and once to
/// send it (issue 9 §2 "Hashing", issue 10 §3). The last <c>holdBackBytes</c> of the copy are held back: they are
/// read, hashed and checked together with the end of the source, and handed out only when the digest matches. So
/// a reader of a corrupt or truncated copy never receives all <c>size</c> bytes: the read that would return the
/// final chunk throws <see cref="CorruptBlobException"/> instead, and a server can abort the transfer before it is
/// complete. Hashing runs on the reading thread, one hash per stream, so concurrent readers hash in parallel and no
/// actor is involved. Not thread-safe: one reader at a time, as any stream.
/// </summary>
public sealed class VerifyingStream : Stream
{
    /// <summary>Bytes held back by default: one 64 KiB chunk, the unit every gateway sends in.</summary>
    public const int DefaultHoldBackBytes = 64 * 1024;

    private readonly Stream _inner;
    private readonly long _size;
    private readonly byte[] _expected;
    private readonly Action<CorruptBlobException>? _onCorrupt;
    private readonly bool _leaveOpen;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _tailStart;
    private readonly int _tailLength;
    private byte[]? _tail;
    private bool _verified;
    private long _position;
    private CorruptBlobException? _failure;
    private bool _disposed;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">the copy, positioned at its first byte; read sequentially</param>
    /// <param name="size">the catalog's size in bytes, ≥ 0</param>
    /// <param name="sha256">the catalog's SHA-256, 64 hex characters (either case)</param>
    /// <param name="onCorrupt">called once, on the reading thread, when the copy turns out corrupt (before the
    /// exception is thrown): e.g. to set the copy aside and have it restored</param>
    /// <param name="holdBackBytes">bytes held back until the whole copy is checked, ≥ 1 (fewer when the blob is
    /// smaller)</param>
    /// <param name="leaveOpen">whether disposing this stream leaves <paramref name="inner"/> open</param>
    /// <exception cref="ArgumentException"><paramref name="sha256"/> is not 64 hex characters</exception>
    /// <exception cref="ArgumentOutOfRangeException">a negative size or a hold-back below 1</exception>
    public VerifyingStream(Stream inner, long size, string sha256, Action<CorruptBlobException>? onCorrupt = null,
        int holdBackBytes = DefaultHoldBackBytes, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(holdBackBytes, 1);
        _inner = inner;
        _size = size;
        _expected = ParseSha256(sha256);
        _onCorrupt = onCorrupt;
        _leaveOpen = leaveOpen;
        _tailLength = (int)Math.Min(holdBackBytes, size);
        _tailStart = size - _tailLength;
    }

    /// <summary>
    /// Reads a whole small copy into memory and checks it before anything is handed out: for blobs small enough to
    /// buffer (e.g. ≤ 1 MiB), so that a reader of a corrupt copy can go to another copy instead of failing halfway.
    /// </summary>
    /// <param name="source">the copy, positioned at its first byte; not disposed here</param>
    /// <param name="size">the catalog's size in bytes, 0 … <see cref="Array.MaxLength"/></param>
    /// <param name="sha256">the catalog's SHA-256, 64 hex characters</param>
    /// <param name="cancellationToken">stops between reads</param>
    /// <returns>a stream over the checked bytes, from pooled memory that its disposal returns</returns>
    /// <exception cref="CorruptBlobException">the copy has another size or SHA-256</exception>
    /// <exception cref="IOException">reading failed</exception>
    /// <exception cref="OperationCanceledException">cancelled</exception>
    public static async Task<Stream> ReadCheckedAsync(Stream source, long size, string sha256,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Array.MaxLength);
        var expected = ParseSha256(sha256);
        var buffer = ArrayPool<byte>.Shared.Rent((int)size + 1);
        try
        {
            var length = await source.ReadAtLeastAsync(buffer.AsMemory(0, (int)size + 1), (int)size + 1,
                throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (length != size) throw new CorruptBlobException(length < size
                ? $"the copy ended after {length} of {size} bytes"
                : $"the copy is longer than {size} bytes");
            var actual = SHA256.HashData(buffer.AsSpan(0, length));
            if (!actual.AsSpan().SequenceEqual(expected)) throw Mismatch(actual, expected);
            return new PooledBytes(buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <summary>The catalog's size in bytes: what a complete read returns.</summary>
    public override long Length => _size;

    /// <summary>Bytes handed out so far; setting it is not supported.</summary>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), synchronous: true, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(buffer.AsMemory(offset, count), synchronous: false, cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, synchronous: false, cancellationToken);

    /// <summary>One read: straight from the source (hashed on the way) until the held-back tail, then the tail once
    /// the whole copy is checked. <paramref name="synchronous"/> reads the source with its blocking call, so the
    /// returned task is already complete.</summary>
    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, bool synchronous, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null) throw _failure;
        if (buffer.Length == 0) return 0;
        if (_position < _tailStart)
        {
            var want = buffer[..(int)Math.Min(buffer.Length, _tailStart - _position)];
            var n = synchronous ? _inner.Read(want.Span) : await _inner.ReadAsync(want, ct).ConfigureAwait(false);
            if (n == 0) throw Fail($"the copy ended after {_position} of {_size} bytes");
            _hash.AppendData(want.Span[..n]);
            _position += n;
            return n;
        }
        if (!_verified)
        {
            // The tail and one byte more: a copy longer than the catalog's size is as wrong as a shorter one.
            _tail = ArrayPool<byte>.Shared.Rent(_tailLength + 1);
            var read = 0;
            while (read <= _tailLength)
            {
                var slot = _tail.AsMemory(read, _tailLength + 1 - read);
                var n = synchronous ? _inner.Read(slot.Span) : await _inner.ReadAsync(slot, ct).ConfigureAwait(false);
                if (n == 0) break;
                read += n;
            }
            if (read < _tailLength) throw Fail($"the copy ended after {_tailStart + read} of {_size} bytes");
            if (read > _tailLength) throw Fail($"the copy is longer than {_size} bytes");
            _hash.AppendData(_tail.AsSpan(0, _tailLength));
            var actual = _hash.GetHashAndReset();
            if (!actual.AsSpan().SequenceEqual(_expected)) throw Fail(Mismatch(actual, _expected).Message);
            _verified = true;
        }
        var offset = (int)(_position - _tailStart);
        var count = Math.Min(buffer.Length, _tailLength - offset);
        _tail.AsSpan(offset, count).CopyTo(buffer.Span);
        _position += count;
        return count;
    }

    private CorruptBlobException Fail(string message)
    {
        _failure = new CorruptBlobException(message);
        _onCorrupt?.Invoke(_failure);
        return _failure;
    }

    private static CorruptBlobException Mismatch(byte[] actual, byte[] expected) =>
        new($"SHA-256 {Convert.ToHexStringLower(actual)}, expected {Convert.ToHexStringLower(expected)}");

    private static byte[] ParseSha256(string sha256)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
            throw new ArgumentException($"not a hex SHA-256: {sha256}", nameof(sha256));
        return Convert.FromHexString(sha256);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Release() && !_leaveOpen) _inner.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Release() && !_leaveOpen) await _inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the hash and the tail once; whether this call did it.</summary>
    private bool Release()
    {
        if (_disposed) return false;
        _disposed = true;
        _hash.Dispose();
        if (_tail is not null) ArrayPool<byte>.Shared.Return(_tail);
        _tail = null;
        return true;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>A read-only stream over pooled bytes, returned to the pool when it is disposed.</summary>
    private sealed class PooledBytes(byte[] buffer, int length) : MemoryStream(buffer, 0, length, writable: false)
    {
        private byte[]? _buffer = buffer;

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (Interlocked.Exchange(ref _buffer, null) is { } rented) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
