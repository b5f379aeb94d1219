namespace ActorImages.Node.Gateways;

/// <summary>
/// A read-only stream whose every read is cancelled when no byte arrives for <c>idle</c>: the time bound of a P1
/// connection's bytes (docs/protocols.md, P1; README "Limits and security") and of an image streamed from another
/// holder (<see cref="Transfer.ImageReader"/>). Inside a P1 frame (<see cref="StartFrame"/>) the bytes received since
/// the frame's header must also keep <c>minRate</c> after a grace of <c>idle</c>: by <c>t</c> seconds into a frame at
/// least <c>(t - idle) × minRate</c> bytes must have come (<see cref="RateFloor"/>), as Kestrel's
/// MinRequestBodyDataRate does for HTTP. With a <c>waitBudget</c>, the reads together may wait at most that long for
/// bytes: the bound of a holder that keeps sending, but slowly, while the time between reads — a slow client's — does
/// not count (<see cref="Transfer.ImageReader"/>).
/// </summary>
/// <param name="inner">The source.</param>
/// <param name="idle">The longest wait for the next bytes of one read.</param>
/// <param name="minRate">Bytes per second a frame must keep (used only after <see cref="StartFrame"/>).</param>
/// <param name="timedOut">What a read throws when the time runs out (the caller's cancellation is left as it is);
/// null rethrows the <see cref="OperationCanceledException"/>.</param>
/// <param name="ownsInner">Whether disposing this stream disposes <paramref name="inner"/>.</param>
/// <param name="waitBudget">The longest time all reads together may spend waiting for <paramref name="inner"/>, or
/// null for no such bound.</param>
public sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, long minRate = 0, Func<Exception>? timedOut = null,
    bool ownsInner = false, TimeSpan? waitBudget = null) : Stream
{
    private RateFloor? _frame;
    private TimeSpan _waited;

    /// <summary>A frame's header is in: its bytes are held to the rate floor from now on.</summary>
    /// <param name="buffered">The frame's bytes already read past the header (they count as received).</param>
    public void StartFrame(long buffered)
    {
        _frame = new RateFloor(idle, minRate);
        _frame.Add(buffered);
    }

    /// <summary>Between frames only the idle timeout applies.</summary>
    public void EndFrame() => _frame = null;

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wait = _frame?.Wait(idle) ?? idle;
        if (waitBudget is { } budget && budget - _waited < wait) wait = budget - _waited;
        if (wait <= TimeSpan.Zero) throw timedOut?.Invoke() ?? new OperationCanceledException("slower than the rate bound");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        int read;
        try
        {
            read = await inner.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (timedOut is not null && !cancellationToken.IsCancellationRequested)
        {
            throw timedOut();
        }
        finally
        {
            _waited += System.Diagnostics.Stopwatch.GetElapsedTime(started);
        }
        _frame?.Add(read);
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

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

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner) inner.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (ownsInner) await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
