using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Storage;
using Akka.Actor;
using Akka.Hosting;

namespace ActorImages.Node.Ingest;

/// <summary>Who sent an upload and how; what the catalog records besides the bytes.</summary>
/// <param name="Filename">The client's name for it (P2, HTTP), or null for the stored name (P1).</param>
/// <param name="Uploader">P2 user, <c>tcp:&lt;ip&gt;</c> (P1) or <c>http:&lt;ip&gt;</c> (HTTP).</param>
/// <param name="Protocol">The way it came in.</param>
/// <param name="ReceivedAt">Time of receipt; null means now. Imports keep the original time.</param>
/// <param name="ImportKey">For imports: a key that makes a second import of the same item a no-op.</param>
public sealed record UploadInfo(string? Filename, string Uploader, SourceProtocol Protocol,
    DateTimeOffset? ReceivedAt = null, string? ImportKey = null);

/// <summary>Why an upload was not stored; gateways map each to their protocol's error.</summary>
public enum IngestFailure
{
    /// <summary>The bytes are no whole image of an accepted format (or over the pixel limit).</summary>
    Invalid,
    /// <summary>The declared or received size is over <c>max-image-bytes</c>.</summary>
    TooLarge,
    /// <summary>The sender stopped before the declared size arrived.</summary>
    Truncated,
    /// <summary>The cluster or the catalog cannot take writes now (minority side, database down, a replica failed,
    /// this node's disk failed).</summary>
    Unavailable,
    /// <summary>This node's disk is full (ENOSPC while writing the upload or linking its copy).</summary>
    NoSpace,
}

/// <summary>The outcome of one upload: <see cref="Entry"/> when stored, else <see cref="Failure"/> and a reason.</summary>
/// <param name="Entry">The committed entry, or null.</param>
/// <param name="Failure">Why nothing was stored, when <paramref name="Entry"/> is null.</param>
/// <param name="Reason">A short English reason (shown to P2 clients as <c>Falha no upload: &lt;reason&gt;</c>).</param>
public sealed record IngestResult(CatalogEntry? Entry, IngestFailure? Failure, string Reason)
{
    /// <summary>A stored upload.</summary>
    /// <param name="entry">The committed entry.</param>
    /// <returns>The result.</returns>
    public static IngestResult Stored(CatalogEntry entry) => new(entry, null, "");

    /// <summary>A refused upload.</summary>
    /// <param name="failure">The kind of failure.</param>
    /// <param name="reason">The reason.</param>
    /// <returns>The result.</returns>
    public static IngestResult Refused(IngestFailure failure, string reason) => new(null, failure, reason);
}

/// <summary>
/// The one entry point of every upload, whatever the protocol (docs/design.md, "The path of one image"): stream the
/// bytes to a temp file while hashing them, reserving the stored name as soon as the first bytes name the format,
/// probe the image header, place the replicas (rendezvous hashing), fsync and link the local copy and push the remote
/// ones side by side (a failed push moves to the next member in rendezvous order; with none left the upload fails),
/// commit the catalog entry in the Registry's next batch, and only then answer. Nothing half-written becomes visible:
/// a failure at any step removes what was written and commits nothing; a failure of this node's own disk is a
/// refusal (<see cref="IngestFailure.NoSpace"/> or <see cref="IngestFailure.Unavailable"/>), never an exception.
/// </summary>
public sealed class Ingestion
{
    private readonly NodeSettings _settings;
    private readonly BlobStore _blobs;
    private readonly Membership _membership;
    private readonly ReplicaTransfer _transfer;
    private readonly IRequiredActor<RegistryActor> _registry;
    private readonly NodeMetrics _metrics;
    private readonly LeaveState _leave;

    /// <summary>Creates the service.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="membership">The membership view, for placement.</param>
    /// <param name="transfer">Copies bytes to other nodes.</param>
    /// <param name="registry">This node's <see cref="RegistryActor"/>.</param>
    /// <param name="metrics">Records the time of each step of a stored upload.</param>
    /// <param name="leave">Whether this node is leaving: then it places uploads on the other members.</param>
    public Ingestion(NodeSettings settings, BlobStore blobs, Membership membership, ReplicaTransfer transfer,
        IRequiredActor<RegistryActor> registry, NodeMetrics metrics, LeaveState leave)
    {
        _leave = leave;
        _metrics = metrics;
        _settings = settings;
        _blobs = blobs;
        _membership = membership;
        _transfer = transfer;
        _registry = registry;
    }

    /// <summary>Reads one upload from <paramref name="source"/> and stores it.</summary>
    /// <param name="source">The bytes.</param>
    /// <param name="length">The declared size in bytes (P1 header, P2 size, HTTP Content-Length), or null.</param>
    /// <param name="toEnd">False: exactly <paramref name="length"/> bytes are consumed and the rest stays for the
    /// caller (the next P1 frame). True: everything up to the end is the upload (a P2 binary message, an HTTP body),
    /// and it must be exactly <paramref name="length"/> bytes when that is given.</param>
    /// <param name="info">Who sent it and how.</param>
    /// <param name="ct">Cancelled when the connection goes.</param>
    /// <returns>The stored entry or the reason for refusing it; never throws for bad input.</returns>
    public async Task<IngestResult> IngestAsync(PipeReader source, long? length, bool toEnd, UploadInfo info, CancellationToken ct)
    {
        if (length > _settings.MaxImageBytes)
            return IngestResult.Refused(IngestFailure.TooLarge, $"image larger than {_settings.MaxImageBytes} bytes");
        if (length is <= 0) return IngestResult.Refused(IngestFailure.Invalid, "empty image");
        // PostgreSQL's text holds no NUL; a P2 or HTTP client may send one in a name (docs/protocols.md, P2).
        if ((info.Filename?.Contains('\0') ?? false) || info.Uploader.Contains('\0'))
            return IngestResult.Refused(IngestFailure.Invalid, "the file name or the user name holds a NUL character");
        var writer = _blobs.NewWriter();
        var started = Stopwatch.GetTimestamp();
        var receivedAt = info.ReceivedAt ?? DateTimeOffset.UtcNow;
        Task<string>? reservation = null;
        try
        {
            // The stored name is reserved as soon as the first bytes name the format (its extension), while the rest
            // arrive: an upload refused later leaves a gap in the -n numbering, as names leased ahead do
            // (docs/design.md, "The path of one image").
            var received = await CopyAsync(source, writer, toEnd ? null : length, _settings.MaxImageBytes,
                format => reservation = ReserveAsync(receivedAt, format, ct), ct);
            if (received > _settings.MaxImageBytes)
                return IngestResult.Refused(IngestFailure.TooLarge, $"image larger than {_settings.MaxImageBytes} bytes");
            if (length is { } expected && received < expected)
                return IngestResult.Refused(IngestFailure.Truncated, $"truncated upload ({received} of {expected} bytes)");
            if (length is { } announced && received > announced)
                return IngestResult.Refused(IngestFailure.Invalid, $"received {received} bytes, announced {announced}");
            StagedBlob staged;
            try
            {
                staged = await writer.FinishAsync(length, ct);
            }
            catch (IOException e)
            {
                throw new LocalDiskFailure(e);
            }
            _metrics.IngestPhase("receive", Stopwatch.GetElapsedTime(started));
            // An upload shorter than the 12 bytes that name a format is named only now.
            reservation ??= ReserveAsync(receivedAt, staged.Format, ct);
            return await StoreAsync(staged, receivedAt, reservation, info, ct);
        }
        catch (InvalidImageException e)
        {
            return IngestResult.Refused(IngestFailure.Invalid, e.Message);
        }
        catch (LocalDiskFailure e)
        {
            // The node's own disk, not the sender: a clear refusal, never a dropped connection that looks like success.
            return DiskRefusal(e.Cause);
        }
        finally
        {
            // A refused upload's reservation is still observed: its failure (the catalog went away) is no one's error.
            _ = reservation?.ContinueWith(static t => t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await writer.DisposeAsync();
        }
    }

    /// <summary>Reserves the stored name of an upload of <paramref name="format"/> received at
    /// <paramref name="receivedAt"/>: a round trip to this node's Registry, served from its lease of names when it
    /// has one.</summary>
    private async Task<string> ReserveAsync(DateTimeOffset receivedAt, ImageFormat format, CancellationToken ct)
    {
        var registry = await _registry.GetAsync(ct);
        return (await registry.Ask<RegistryActor.PathReserved>(
            new RegistryActor.ReservePath(receivedAt, format.Extension()), _settings.AskTimeout, ct)).Path;
    }

    /// <summary>Copies the upload into <paramref name="writer"/>; <paramref name="onFormat"/> is called once, after
    /// the write that tells the format.</summary>
    /// <returns>Bytes received; more than <paramref name="max"/> means the upload was cut off there.</returns>
    private static async Task<long> CopyAsync(PipeReader source, BlobWriter writer, long? length, long max,
        Action<ImageFormat> onFormat, CancellationToken ct)
    {
        long received = 0;
        var formatKnown = false;
        while (length is null || received < length)
        {
            var read = await source.ReadAsync(ct);
            var buffer = read.Buffer;
            if (length is { } n && buffer.Length > n - received) buffer = buffer.Slice(0, n - received);
            if (received + buffer.Length > max)
            {
                source.AdvanceTo(buffer.End);
                return received + buffer.Length;
            }
            try
            {
                foreach (var segment in buffer) await writer.WriteAsync(segment, ct);
            }
            catch (IOException e)
            {
                // Told apart from the source's own IOException (a connection reset), which ends the upload as before.
                throw new LocalDiskFailure(e);
            }
            received += buffer.Length;
            source.AdvanceTo(buffer.End);
            if (!formatKnown && writer.Format is { } format)
            {
                formatKnown = true;
                onFormat(format);
            }
            if (read.IsCompleted || read.IsCanceled) break;
        }
        return received;
    }

    private async Task<IngestResult> StoreAsync(StagedBlob staged, DateTimeOffset receivedAt, Task<string> reservation,
        UploadInfo info, CancellationToken ct)
    {
        var view = _membership.Current;
        if (!view.HasMajority)
            return IngestResult.Refused(IngestFailure.Unavailable, "cluster unavailable (this node is not in a majority)");
        // Rendezvous order: the first replication-factor members are the targets, the rest stand in, in order, for a
        // target whose push fails, e.g. one killed a moment ago that the failure detector has not yet marked
        // unreachable (docs/design.md, "The path of one image").
        // A leaving node places its uploads on the others, when there are any (LeaveState).
        var members = view.UpReachable;
        if (_leave.Leaving && members.Where(m => m.Address != view.Self).ToList() is { Count: > 0 } others) members = others;
        var ranked = Membership.Rank(staged.Md5, members).Select(m => new Replica(m.Address, m.Host)).ToList();
        var targets = ranked.Take(_settings.ReplicationFactor).ToList();
        var standIns = new Queue<Replica>(ranked.Skip(_settings.ReplicationFactor));
        string path;
        var reserving = Stopwatch.GetTimestamp();
        try
        {
            path = await reservation;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return IngestResult.Refused(IngestFailure.Unavailable, "catalog unavailable: " + e.Message);
        }

        // What is left of the reservation's wait once the bytes are in.
        _metrics.IngestPhase("reserve", Stopwatch.GetElapsedTime(reserving));
        var replicating = Stopwatch.GetTimestamp();
        var self = view.Self;
        var written = new List<Replica>();
        var local = targets.FirstOrDefault(t => t.Address == self);
        try
        {
            // The remote copies are pushed from the temp file while the local copy is fsynced and linked beside them
            // (the temp name stays until the writer is disposed, for a push that moves to a stand-in). A node that
            // holds no copy never fsyncs the bytes. All are durable before the catalog hears of them
            // (docs/design.md, "The path of one image").
            var pushes = targets.Where(t => t.Address != self).Select(async target =>
            {
                while (true)
                {
                    if (target.Address == self)
                    {
                        // This node stands in: its copy is linked once the pushes are done.
                        lock (written) local = target;
                        return;
                    }
                    try
                    {
                        await _transfer.PushAsync(target.Host, path, staged.TempFile, staged.Size, staged.Sha256, ct);
                        lock (written) written.Add(target);
                        return;
                    }
                    catch (Exception) when (!ct.IsCancellationRequested)
                    {
                        lock (standIns)
                        {
                            if (!standIns.TryDequeue(out var next)) throw;
                            target = next;
                        }
                    }
                }
            }).ToList();
            Replica? linked = null;
            Exception? localFailure = null;
            if (local is { } first)
            {
                try
                {
                    await _blobs.CommitAsync(staged, path, ct, keepTempFile: true);
                    lock (written) written.Add(linked = first);
                }
                catch (Exception e)
                {
                    // Reported once the pushes are done, so that every copy they made is known and removed.
                    localFailure = e;
                }
            }
            await Task.WhenAll(pushes);
            if (localFailure is not null) throw localFailure;
            if (local is { } standIn && linked is null)
            {
                await _blobs.CommitAsync(staged, path, ct, keepTempFile: true);
                written.Add(standIn);
            }
            _metrics.IngestPhase("replicate", Stopwatch.GetElapsedTime(replicating));
            var entry = new NewEntry(staged.Md5, staged.Sha256, staged.Size, staged.Format.MediaType(), staged.Width,
                staged.Height, info.Filename ?? path[(path.LastIndexOf('/') + 1)..], info.Uploader, info.Protocol, receivedAt, path,
                ranked.Where(written.Contains).ToList(), info.ImportKey);
            return await CommitAsync(entry, written, staged.Sha256, self, ct);
        }
        catch (Exception e)
        {
            await RemoveCopiesAsync(written, path, staged.Sha256, self);
            if (e is OperationCanceledException && ct.IsCancellationRequested) throw;
            if (e is IOException io && BlobStore.IsDiskFull(io)) return DiskRefusal(io);
            return IngestResult.Refused(IngestFailure.Unavailable, "replication failed: " + e.Message);
        }
    }

    private static IngestResult DiskRefusal(IOException e) => BlobStore.IsDiskFull(e)
        ? IngestResult.Refused(IngestFailure.NoSpace, "no space left on this node's disk")
        : IngestResult.Refused(IngestFailure.Unavailable, "cannot store on this node: " + e.Message);

    /// <summary>A failure of this node's own file work on an upload, as opposed to the sender's stream.</summary>
    private sealed class LocalDiskFailure(IOException cause) : Exception(cause.Message, cause)
    {
        public IOException Cause => (IOException)InnerException!;
    }

    private async Task<IngestResult> CommitAsync(NewEntry entry, List<Replica> written, string sha256, string self, CancellationToken ct)
    {
        // Cancellation stops at the Registry's door: once the entry is asked for, its batch may commit whatever
        // becomes of the caller, so the copies stay and the answer is awaited (bounded by ask-timeout). A sender's
        // deadline passing in that moment must not delete the files of an entry the catalog then lists.
        var registry = await _registry.GetAsync(ct);
        try
        {
            var committing = Stopwatch.GetTimestamp();
            var committed = await registry.Ask<RegistryActor.Committed>(new RegistryActor.Commit(entry),
                _settings.AskTimeout, CancellationToken.None);
            _metrics.IngestPhase("commit", Stopwatch.GetElapsedTime(committing));
            // An import key the catalog already had: the earlier entry stands, these copies are not needed.
            if (committed.Entry.Path != entry.Path) await RemoveCopiesAsync(written, entry.Path, sha256, self);
            return IngestResult.Stored(committed.Entry);
        }
        catch (ArgumentException e)
        {
            // The Registry refused the entry on receipt (CatalogStore.Validate): it was never in a batch, so its
            // copies go now rather than after orphan-grace.
            await RemoveCopiesAsync(written, entry.Path, sha256, self);
            return IngestResult.Refused(IngestFailure.Invalid, e.Message);
        }
        catch (Exception e)
        {
            // The copies stay: a commit whose answer was lost (the database went away mid-commit) may still have
            // committed, and deleting its files would lose an acknowledged-elsewhere image. An orphan file without a
            // catalog entry is invisible to every client.
            return IngestResult.Refused(IngestFailure.Unavailable, "catalog unavailable: " + e.Message);
        }
    }

    private async Task RemoveCopiesAsync(IEnumerable<Replica> written, string path, string sha256, string self)
    {
        foreach (var replica in written.ToList())
        {
            try
            {
                if (replica.Address == self) _blobs.Delete(path);
                else await _transfer.DeleteAsync(replica.Host, path, sha256, CancellationToken.None);
            }
            catch (Exception)
            {
                // An orphan file without a catalog entry is invisible to every client; the scrub removes it.
            }
        }
    }
}
