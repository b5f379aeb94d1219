namespace ActorImages.Storage;

/// <summary>
/// Receives one upload as a stream of chunks into a temp file under <c>dataDir/.tmp</c>, computing its MD5 and
/// SHA-256 as the bytes pass, so an image is never held whole in memory. Made by <see cref="BlobStore.NewWriter"/>.
/// Not thread-safe: one writer serves one upload, one call at a time.
/// </summary>
/// <remarks>
/// <para>Rules (docs/protocols.md, P1 "Bad input"; issue 9), each an <see cref="InvalidImageException"/> that leaves
/// the writer aborted and its temp file deleted:</para>
/// <list type="bullet">
/// <item>more than <c>maxImageBytes</c> bytes: <c>image larger than N bytes</c>, thrown by the write that would
/// pass the limit, before any of its bytes reach the disk;</item>
/// <item>no known magic number in the first 12 bytes: <c>not an image (unknown format)</c>, as soon as 12 bytes
/// arrived (at <see cref="FinishAsync"/> for a shorter upload);</item>
/// <item>no bytes at all: <c>empty image</c>;</item>
/// <item>a length other than announced: <c>truncated upload (N of M bytes)</c> or
/// <c>upload longer than announced (N of M bytes)</c>. This, not an end marker, is how a transfer cut short by a
/// closed connection is caught;</item>
/// <item>a header no decoder reads, or over the pixel limit: see <see cref="ImageProbe"/> (not checked for a copy,
/// <see cref="BlobStore.NewCopyWriter"/>, whose SHA-256 its caller compares with the catalog's).</item>
/// </list>
/// <para>Any exception from <see cref="WriteAsync"/> or <see cref="FinishAsync"/>, an <see cref="IOException"/> or a
/// cancellation too, aborts the writer; later calls throw <see cref="InvalidOperationException"/>.</para>
/// <para>The file work runs on the caller's thread: writes go to the page cache through a 64 KiB buffer, and the header
/// probe of <see cref="FinishAsync"/> blocks the caller for its duration. The writer never fsyncs: the temp file is
/// made durable by <see cref="BlobStore.CommitAsync"/>, just before its name is linked, so a node that only passes an
/// upload on to its holders (and keeps no copy) spends no disk flush on it. .NET's asynchronous file I/O
/// on Linux is the same blocking system call on another thread-pool thread plus a hand-over each way; every caller
/// here is already a thread-pool thread in an async method (a socket's, a request's or a copy's continuation), so the
/// hand-overs bought nothing and cost context switches on the ingest path (docs/benchmarks.md).</para>
/// </remarks>
public sealed class BlobWriter : IAsyncDisposable
{
    private enum State
    {
        Open,
        Finished,
        Aborted,
    }

    private readonly string _tempDir;
    private readonly long _maxImageBytes;
    private readonly long _maxPixels;
    private readonly bool _copy;
    private readonly BlobHasher _hasher;
    private readonly byte[] _head = new byte[ImageFormats.SniffBytes];
    private int _headLength;
    private ImageFormat? _format;
    private State _state = State.Open;
    private FileStream? _file;

    internal BlobWriter(string tempDir, long maxImageBytes, long maxPixels, bool copy = false)
    {
        _tempDir = tempDir;
        _maxImageBytes = maxImageBytes;
        _maxPixels = maxPixels;
        _copy = copy;
        _hasher = new BlobHasher(withMd5: !copy);
    }

    /// <summary>Bytes accepted so far by <see cref="WriteAsync"/>.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>The temp file, or null before the first byte: a connection that sends nothing leaves no file.</summary>
    public string? TempFile { get; private set; }

    /// <summary>
    /// The format named by the upload's first 12 bytes (its magic number, see <see cref="ImageFormats"/>), once that many have
    /// arrived; null before. <see cref="FinishAsync"/> accepts only this format (a header of another one is refused),
    /// so a caller may act on it early, e.g. reserve the stored name, whose extension it decides, while the rest of
    /// the bytes arrive.
    /// </summary>
    public ImageFormat? Format => _format;

    /// <summary>
    /// Appends the next bytes of the upload. The temp file is created by the first non-empty call. Completes before it
    /// returns: the bytes are in the page cache (see the remarks); a failure is in the returned task.
    /// </summary>
    /// <param name="bytes">the next bytes, any length; not kept after the call</param>
    /// <param name="cancellationToken">cancels the write, which aborts the writer</param>
    /// <exception cref="InvalidImageException">the upload grew over <c>maxImageBytes</c>, or its first 12 bytes are no
    /// known image; the writer is aborted</exception>
    /// <exception cref="IOException">writing the temp file failed; the writer is aborted</exception>
    /// <exception cref="InvalidOperationException">the writer was already finished or aborted</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        try
        {
            Append(bytes.Span, cancellationToken);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private void Append(ReadOnlySpan<byte> bytes, CancellationToken cancellationToken)
    {
        RequireOpen();
        try
        {
            if (bytes.Length > _maxImageBytes - BytesWritten)
            {
                throw new InvalidImageException($"image larger than {_maxImageBytes} bytes");
            }
            if (bytes.IsEmpty)
            {
                return;
            }
            SniffEarly(bytes);
            cancellationToken.ThrowIfCancellationRequested();
            _hasher.Append(bytes);
            OpenFile().Write(bytes);
            BytesWritten += bytes.Length;
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>
    /// Ends the upload: checks its length, reads its header (format and dimensions, no pixel decode), then hands the
    /// last buffered bytes to the kernel and closes the temp file (no fsync: <see cref="BlobStore.CommitAsync"/> makes
    /// it durable). The returned blob is not visible yet: pass it to <see cref="BlobStore.CommitAsync"/>, or call
    /// <see cref="Abort"/> (or dispose the writer) to drop it.
    /// </summary>
    /// <param name="expectedSize">the length the sender announced in bytes (P1 length header, P2 size, HTTP
    /// Content-Length), or null when it announced none</param>
    /// <param name="cancellationToken">cancels after the probe, which aborts the writer</param>
    /// <returns>the verified upload, still in its temp file</returns>
    /// <exception cref="InvalidImageException">empty, another length than announced, not an image, unreadable header
    /// or over the pixel limit; the writer is aborted</exception>
    /// <exception cref="IOException">writing or reading the temp file failed; the writer is aborted</exception>
    /// <exception cref="InvalidOperationException">the writer was already finished or aborted</exception>
    public async Task<StagedBlob> FinishAsync(long? expectedSize = null, CancellationToken cancellationToken = default)
    {
        RequireOpen();
        try
        {
            if (BytesWritten == 0)
            {
                throw new InvalidImageException("empty image");
            }
            if (expectedSize is long expected && expected != BytesWritten)
            {
                throw new InvalidImageException(BytesWritten < expected
                    ? $"truncated upload ({BytesWritten} of {expected} bytes)"
                    : $"upload longer than announced ({BytesWritten} of {expected} bytes)");
            }
            var format = _format ?? Sniff();
            var file = _file!;
            file.Flush();
            // A copy's bytes are taken for their SHA-256, which its caller compares with the catalog's: the header
            // was read when the image was first stored, and is not read again.
            var header = _copy ? new ImageHeader(format, 0, 0) : ImageProbe.Read(TempFile!, format, _maxPixels);
            cancellationToken.ThrowIfCancellationRequested();
            await file.DisposeAsync().ConfigureAwait(false);
            _file = null;
            _state = State.Finished;
            var digest = _hasher.Finish();
            return new StagedBlob(TempFile!, BytesWritten, digest.Md5, digest.Sha256, header.Format, header.Width,
                header.Height);
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>
    /// Drops the upload: closes and deletes the temp file, whether or not <see cref="FinishAsync"/> ran (after a
    /// <see cref="BlobStore.CommitAsync"/> the temp file is gone and this does nothing). Idempotent; never throws. A
    /// temp file that cannot be deleted is left for <see cref="BlobStore.RemoveLeftoverTempFiles"/>.
    /// </summary>
    public void Abort()
    {
        if (_state == State.Aborted)
        {
            return;
        }
        _state = State.Aborted;
        _hasher.Dispose();
        try
        {
            _file?.Dispose();
        }
        catch (IOException)
        {
            // The buffered tail could not be written: the file is deleted next anyway.
        }
        _file = null;
        try
        {
            if (TempFile is not null)
            {
                File.Delete(TempFile);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for RemoveLeftoverTempFiles at the next start.
        }
    }

    /// <summary>
    /// Drops whatever was not committed (see <see cref="Abort"/>): an upload that failed, was refused, or was finished
    /// but never committed. After a commit there is nothing left to drop.
    /// </summary>
    /// <returns>a completed task</returns>
    public ValueTask DisposeAsync()
    {
        Abort();
        return ValueTask.CompletedTask;
    }

    private void RequireOpen()
    {
        if (_state != State.Open)
        {
            throw new InvalidOperationException($"writer already {_state.ToString().ToLowerInvariant()}");
        }
    }

    // Junk is refused as soon as its first 12 bytes are in, before it fills a temp file.
    private void SniffEarly(ReadOnlySpan<byte> bytes)
    {
        if (_headLength < _head.Length)
        {
            int take = Math.Min(bytes.Length, _head.Length - _headLength);
            bytes[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
            if (_headLength == _head.Length)
            {
                _format = Sniff();
            }
        }
    }

    private ImageFormat Sniff() =>
        ImageFormats.Sniff(_head.AsSpan(0, _headLength))
        ?? throw new InvalidImageException("not an image (unknown format)");

    private FileStream OpenFile()
    {
        if (_file is null)
        {
            TempFile = Path.Combine(_tempDir, $"upload-{Guid.NewGuid():N}.part");
            _file = new FileStream(TempFile, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.Read | FileShare.Delete,
                // Sockets hand over chunks of a few KiB: a buffer keeps those to one system call per 64 KiB.
                BufferSize = 64 * 1024,
            });
        }
        return _file;
    }
}
