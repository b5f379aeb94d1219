using Microsoft.Win32.SafeHandles;

namespace ActorImages.Storage;

/// <summary>
/// A read-only, seekable stream over a file whose asynchronous reads run the read system call on the caller's thread
/// and are complete when they return. .NET's asynchronous file reads on Linux are that same blocking call on another
/// thread-pool thread plus a hand-over each way (the reason <see cref="BlobWriter"/> writes synchronously too). The
/// files read here are mostly in the page cache (temp files just written, images just stored or read often), where
/// the call takes microseconds per chunk and the hand-overs were most of the cost (docs/benchmarks.md); a read of an
/// image not in the cache holds the calling thread for the disk's read instead, as the hand-over's thread was held
/// before. Every caller is already a thread-pool
/// thread in an async method (a request's, a socket's or a copy's continuation). The length is taken when the file is
/// opened: a stored image and a finished temp file never change. Not thread-safe: one reader at a time, as any stream.
/// </summary>
public sealed class BlobReadStream : Stream
{
    private readonly long _length;
    private long _position;
    private bool _disposed;

    private BlobReadStream(SafeFileHandle handle)
    {
        Handle = handle;
        _length = RandomAccess.GetLength(handle);
    }

    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="path">an absolute file path</param>
    /// <param name="share">what others may do with the file meanwhile; <see cref="FileShare.Delete"/> lets a
    /// concurrent delete or rename go ahead without disturbing this reader</param>
    /// <returns>the stream at offset 0; dispose it</returns>
    /// <exception cref="FileNotFoundException">no such file</exception>
    /// <exception cref="DirectoryNotFoundException">a folder of the path is missing</exception>
    /// <exception cref="IOException">opening failed otherwise</exception>
    public static BlobReadStream Open(string path, FileShare share) =>
        new(File.OpenHandle(path, FileMode.Open, FileAccess.Read, share, FileOptions.SequentialScan));

    /// <summary>The open file, e.g. to compare its identity with what a path names now; owned by this stream.</summary>
    public SafeFileHandle Handle { get; }

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => !_disposed;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <summary>The file's length in bytes when it was opened.</summary>
    public override long Length => _length;

    /// <inheritdoc />
    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var read = RandomAccess.Read(Handle, buffer, _position);
        _position += read;
        return read;
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Reads on the caller's thread (see the class summary); the returned task is complete.</summary>
    /// <param name="buffer">where the bytes go</param>
    /// <param name="cancellationToken">checked before the read</param>
    /// <returns>the number of bytes read, 0 at the end</returns>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        try
        {
            return new ValueTask<int>(Read(buffer.Span));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    /// <inheritdoc cref="ReadAsync(Memory{byte}, CancellationToken)" />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    /// <exception cref="IOException">the target is before the first byte</exception>
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0) throw new IOException("seek before the beginning of the file");
        _position = target;
        return target;
    }

    /// <summary>Nothing to flush: the stream only reads.</summary>
    public override void Flush()
    {
    }

    /// <summary>Not supported: the stream only reads.</summary>
    /// <param name="value">ignored</param>
    /// <exception cref="NotSupportedException">always</exception>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Not supported: the stream only reads.</summary>
    /// <param name="buffer">ignored</param>
    /// <param name="offset">ignored</param>
    /// <param name="count">ignored</param>
    /// <exception cref="NotSupportedException">always</exception>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            Handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
