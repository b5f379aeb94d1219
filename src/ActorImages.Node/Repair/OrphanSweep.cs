using System.Text.RegularExpressions;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Storage;

namespace ActorImages.Node.Repair;

/// <summary>What one page of the orphan sweep did.</summary>
/// <param name="Examined">Files looked at.</param>
/// <param name="Removed">Files deleted.</param>
/// <param name="PassDone">Whether this page ended a pass over the whole data directory.</param>
/// <param name="CatalogFailed">Whether the catalog could not be asked, so every file of the page was kept.</param>
public sealed record SweepPage(int Examined, int Removed, bool PassDone, bool CatalogFailed);

/// <summary>
/// The scrub's slow pass over this node's files (<see cref="ScrubActor"/> runs one page per <c>scrub-pace</c> at
/// most), removing what nothing will ever read: an image file under <c>YYYY-MM-DD/</c> left by an upload whose
/// catalog commit failed, a replica pushed for an upload that was never acknowledged (<see cref="Ingest.Ingestion"/>
/// keeps copies when the commit's answer is lost), a copy this node kept after the catalog moved the image to other
/// nodes; and temp files under <c>.tmp/</c> that a crash or a kill left (nothing else removes them).
/// <para>Rules, each one keeping a file when in doubt:</para>
/// <list type="bullet">
/// <item>only files last written more than <c>orphan-grace</c> ago (default 1 h) are candidates: far longer than an
/// upload takes from its last byte to its catalog commit, and an upload in progress writes its temp file at least
/// every P1 idle timeout;</item>
/// <item>a file whose path the catalog lists on this node (its address or its host) is never deleted;</item>
/// <item>a file whose path the catalog lists only on other nodes is deleted only while the entry has all its copies
/// on Up and reachable members (the replication factor, or every Up member when fewer): the image lives there, an
/// entry short of copies may need this one, and a node whose address changed keeps its files (<see cref="Reason"/>);
/// and only once each of those holders has confirmed that its copy is sound (<see cref="ReplicaTransfer.ConfirmAsync"/>:
/// read and hashed whole there), since the catalog says where copies should be, not that they are good. When some
/// holders confirm and others do not, the file stays until their scrub has restored them from the sound ones; when none
/// does and this file is the image, this node is added to the entry's replicas — the file may be the image's last
/// sound copy, and listed, the holders' scrub restores theirs from it; the copy too many that the entry then lists is
/// trimmed by self-repair once enough of them are sound (<see cref="ReplicaRepair"/>), and its file goes with the
/// sweep of the node dropped;</item>
/// <item>a file whose path the catalog does not know is deleted, but only once the catalog lists at least one image
/// on this node in this pass (a node pointed at a wrong or empty database deletes nothing);</item>
/// <item>a catalog lookup that fails keeps every file of the page.</item>
/// </list>
/// One directory page (<see cref="PageSize"/> files) per call, one catalog query per page; a pass walks <c>.tmp</c>
/// and the day folders in name order. Thumbnails and anything else in the data directory are left alone. Not
/// thread-safe: one caller, one page at a time.
/// </summary>
public sealed partial class OrphanSweep
{
    /// <summary>Files examined per page.</summary>
    public const int PageSize = 100;

    private readonly NodeSettings _settings;
    private readonly BlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly Membership _membership;
    private readonly ReplicaTransfer _transfer;
    private readonly ILogger<OrphanSweep> _log;
    private readonly Queue<string> _folders = new();
    private string? _folder;
    private IEnumerator<FileInfo>? _files;
    private bool? _holdsImages;

    /// <summary>Creates the sweep.</summary>
    /// <param name="settings">Node settings (<c>orphan-grace</c>, this node's host).</param>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="membership">This node's address and who is Up.</param>
    /// <param name="transfer">Asks the holders whether their copies are sound.</param>
    /// <param name="log">Log: one line per deleted file.</param>
    public OrphanSweep(NodeSettings settings, BlobStore blobs, CatalogStore catalog, Membership membership,
        ReplicaTransfer transfer, ILogger<OrphanSweep> log)
    {
        _transfer = transfer;
        _settings = settings;
        _blobs = blobs;
        _catalog = catalog;
        _membership = membership;
        _log = log;
    }

    /// <summary>Examines the next page of files and deletes the orphans among them.</summary>
    /// <param name="ct">Cancellation.</param>
    /// <returns>What the page did.</returns>
    public async Task<SweepPage> NextPageAsync(CancellationToken ct)
    {
        var (folder, files, passDone) = await Task.Run(NextFiles, ct);
        if (files.Count == 0) return new SweepPage(0, 0, passDone, false);
        var cutoff = DateTime.UtcNow - _settings.OrphanGrace;
        var old = files.Where(f => f.LastWriteTimeUtc < cutoff).ToList();
        if (old.Count == 0) return new SweepPage(files.Count, 0, passDone, false);
        var name = Path.GetFileName(folder);
        if (name == BlobStore.TempFolder)
            return new SweepPage(files.Count, Delete(old, cutoff, _ => "a temp file no upload finished"), passDone, false);
        try
        {
            var view = _membership.Current;
            _holdsImages ??= (await _catalog.EntriesHeldByAsync(view.Self, 0, 1, ct)).Count > 0;
            var entries = (await _catalog.EntriesByPathsAsync(old.Select(f => name + "/" + f.Name).ToList(), ct))
                .ToDictionary(e => e.Path, StringComparer.Ordinal);
            var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var file in old)
            {
                var entry = entries.GetValueOrDefault(name + "/" + file.Name);
                if (Reason(entry, view, _settings.Host, _settings.ReplicationFactor, _holdsImages == true) is { } reason
                    && (entry is null || await HeldSoundElsewhereAsync(entry, view, ct)))
                    reasons[file.Name] = reason;
            }
            return new SweepPage(files.Count, Delete(old, cutoff, f => reasons.GetValueOrDefault(f.Name)), passDone, false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _log.LogWarning("Orphan sweep: the catalog could not be asked ({Error}); keeping the {Count} files of this page",
                e.Message, old.Count);
            return new SweepPage(files.Count, 0, passDone, true);
        }
    }

    /// <summary>
    /// Whether every live holder of <paramref name="entry"/> (in <paramref name="view"/>, the one the rule read) confirms
    /// a sound copy, so that this node's file under its path can go. When none does, this node's file, if it is the
    /// image, is added to the entry's replicas (the class remarks); either way false keeps the file.
    /// </summary>
    /// <exception cref="Npgsql.NpgsqlException">The catalog failed while this node was being added.</exception>
    private async Task<bool> HeldSoundElsewhereAsync(CatalogEntry entry, MembershipSnapshot view, CancellationToken ct)
    {
        var holders = view.HoldersUp(entry);
        var unconfirmed = new List<string>();
        foreach (var holder in holders)
        {
            if (!await _transfer.ConfirmAsync(holder.Host, entry.Path, entry.Size, entry.Sha256, ct)) unconfirmed.Add(holder.Host);
        }
        if (unconfirmed.Count == 0) return true;
        if (unconfirmed.Count < holders.Count)
        {
            _log.LogWarning("Orphan sweep keeps {Path}: {Hosts} did not confirm a sound copy of {Md5}; it goes once they have one again",
                entry.Path, string.Join(", ", unconfirmed), entry.Md5);
            return false;
        }
        if (await _blobs.HoldsCopyAsync(entry.Path, entry.Sha256, ct) != true)
        {
            _log.LogError("Orphan sweep keeps {Path}: no holder of {Md5} ({Hosts}) confirmed a sound copy, and this node's file is not the image",
                entry.Path, entry.Md5, string.Join(", ", unconfirmed));
            return false;
        }
        await _catalog.ChangeReplicasAsync([entry.Id], now => now.Replicas.Any(r => r.Address == view.Self)
            ? null
            : [.. now.Replicas, new Replica(view.Self, _settings.Host)], ct);
        _log.LogError("Orphan sweep: no holder of {Md5} ({Hosts}) confirmed a sound copy; this node's sound file {Path} is now listed as a replica, for their scrub to restore theirs from",
            entry.Md5, string.Join(", ", unconfirmed), entry.Path);
        return false;
    }

    /// <summary>
    /// The sweep's rule for one old file (the class remarks): why it is an orphan, or null to keep it. A file whose
    /// entry the catalog lists only on other nodes goes only while the entry has all its copies on Up members (the
    /// replication factor, or every Up member when fewer): an entry short of copies may need this one (self-repair
    /// takes a file already under the name as its copy when it is the image). The rule reads only the catalog and the
    /// membership: the sweep then asks those holders whether their copies are sound before it deletes anything.
    /// </summary>
    /// <param name="entry">The catalog entry of the file's path, or null when there is none.</param>
    /// <param name="view">The membership: this node's address and who is Up and reachable.</param>
    /// <param name="selfHost">This node's advertised host (a replica recorded under it is this node's).</param>
    /// <param name="replicationFactor">Copies an entry should have (<c>replication-factor</c>).</param>
    /// <param name="holdsImages">Whether the catalog lists any image on this node (else uncatalogued files stay: a
    /// wrong or empty database).</param>
    /// <returns>The reason to delete, for the log; null to keep the file.</returns>
    public static string? Reason(CatalogEntry? entry, MembershipSnapshot view, string selfHost, int replicationFactor,
        bool holdsImages)
    {
        if (entry is null) return holdsImages ? "no catalog entry has this path" : null;
        if (entry.Replicas.Any(r => r.Address == view.Self || r.Host == selfHost)) return null;
        var holders = view.HoldersUp(entry);
        if (holders.Count == 0 || holders.Count < Membership.CopiesWanted(replicationFactor, view.UpReachable.Count)) return null;
        return $"the catalog lists {entry.Md5} on {string.Join(", ", entry.Hosts)}, not on this node, and "
            + $"{string.Join(", ", holders.Select(h => h.Host))} {(holders.Count == 1 ? "is" : "are")} up";
    }

    /// <summary>Deletes each file of <paramref name="old"/> that <paramref name="why"/> gives a reason for and that
    /// was not written since it was listed.</summary>
    private int Delete(List<FileInfo> old, DateTime cutoff, Func<FileInfo, string?> why)
    {
        var removed = 0;
        foreach (var file in old)
        {
            if (why(file) is not { } reason) continue;
            try
            {
                file.Refresh();
                if (!file.Exists || file.LastWriteTimeUtc >= cutoff) continue;
                var (bytes, written) = (file.Length, file.LastWriteTimeUtc); // Delete forgets them
                file.Delete();
                removed++;
                _log.LogWarning("Orphan sweep deleted {File} ({Bytes} bytes, last written {Written:u}): {Reason}",
                    Path.GetRelativePath(_blobs.DataDir, file.FullName), bytes, written, reason);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogWarning("Orphan sweep could not delete {File}: {Error}", file.FullName, e.Message);
            }
        }
        return removed;
    }

    /// <summary>The next files of the walk (blocking file-system work, on a thread-pool thread).</summary>
    private (string Folder, List<FileInfo> Files, bool PassDone) NextFiles()
    {
        if (_files is null)
        {
            if (_folders.Count == 0) StartPass();
            if (!_folders.TryDequeue(out _folder)) return ("", [], true);
            try
            {
                _files = new DirectoryInfo(_folder).EnumerateFiles().GetEnumerator();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (_folder, [], _folders.Count == 0);
            }
        }
        var page = new List<FileInfo>(PageSize);
        var more = true;
        try
        {
            while (page.Count < PageSize && (more = _files.MoveNext())) page.Add(_files.Current);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            more = false; // the folder went away or cannot be read: the next pass looks again
        }
        if (!more)
        {
            _files.Dispose();
            _files = null;
        }
        return (_folder!, page, !more && _folders.Count == 0);
    }

    /// <summary>Lists the folders of a new pass: <c>.tmp</c>, then the day folders in name order.</summary>
    private void StartPass()
    {
        _holdsImages = null;
        _folders.Enqueue(_blobs.TempDir);
        foreach (var day in Directory.EnumerateDirectories(_blobs.DataDir)
                     .Where(d => DayFolder().IsMatch(Path.GetFileName(d))).Order(StringComparer.Ordinal))
            _folders.Enqueue(day);
    }

    [GeneratedRegex(@"\A\d{4}-\d{2}-\d{2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DayFolder();
}
