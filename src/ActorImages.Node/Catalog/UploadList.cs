using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Protocols;

namespace ActorImages.Node.Catalog;

/// <summary>
/// The P2 <c>LIST</c> reply, kept in memory: the newest uploads that fit the seed-001 client's 1 MiB message limit, in
/// upload order (docs/protocols.md, P2), rendered once per change. Its size is bounded by that limit whatever the
/// catalog's size, and a LIST costs no query. Filled from PostgreSQL at start and from the <see cref="ImageFeed"/>
/// after (this node's commits before they are acknowledged, other nodes' within a second); the newest entries are
/// read again every reload so that an event pub-sub lost on the way is listed all the same.
/// </summary>
public sealed class UploadList
{
    private readonly object _gate = new();
    private readonly int _maxBytes;
    private readonly int _capacity;
    private readonly SortedList<long, P2ListedFile> _files = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile byte[]? _rendered;

    /// <summary>Creates an empty list.</summary>
    /// <param name="maxBytes">The reply's byte budget (<c>p2.list-max-bytes</c>).</param>
    public UploadList(int maxBytes)
    {
        _maxBytes = maxBytes;
        // A row is at least 30 bytes ({"filename":"","uploader":""}): more entries than this can never fit.
        _capacity = maxBytes / 30 + 1;
    }

    /// <summary>How many entries of the newest are held (the reply may list fewer: it must fit the budget).</summary>
    public int Count
    {
        get { lock (_gate) return _files.Count; }
    }

    /// <summary>Adds committed entries, newest or not.</summary>
    /// <param name="names">Entries with their ids.</param>
    public void Add(IEnumerable<UploadName> names)
    {
        lock (_gate)
        {
            foreach (var n in names) _files[n.Id] = new P2ListedFile(n.Filename, n.Uploader);
            while (_files.Count > _capacity) _files.RemoveAt(0);
            _rendered = null;
        }
    }

    /// <summary>Adds one committed entry.</summary>
    /// <param name="entry">The entry.</param>
    public void Add(CatalogEntry entry) => Add([new UploadName(entry.Id, entry.Filename, entry.Uploader)]);

    /// <summary>The LIST reply (one JSON text frame, UTF-8, at most <c>p2.list-max-bytes</c>), once the first load
    /// from the catalog is in. Rendered once per change and shared: callers must not modify it.</summary>
    /// <param name="ct">Cancellation of the wait.</param>
    /// <returns>The rendered reply's UTF-8 bytes.</returns>
    public async Task<byte[]> ReplyAsync(CancellationToken ct)
    {
        await _loaded.Task.WaitAsync(ct);
        return Reply();
    }

    private byte[] Reply()
    {
        var rendered = _rendered;
        if (rendered is not null) return rendered;
        lock (_gate)
        {
            return _rendered ??= System.Text.Encoding.UTF8.GetBytes(P2Reply.ListWithin(_files.Values.ToList(), out _, _maxBytes));
        }
    }

    /// <summary>Loads the newest entries from the catalog (at start, then the newest few on every reload).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="all">True for the whole window, false for the newest 256 only.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>A task that completes when they are in.</returns>
    public async Task LoadAsync(CatalogStore catalog, bool all, CancellationToken ct)
    {
        Add(await catalog.NewestNamesAsync(all ? _capacity : 256, ct));
        _loaded.TrySetResult();
    }
}

/// <summary>Fills the <see cref="UploadList"/>: every committed entry from the feed, the whole window from the
/// catalog at start (retried until the database answers), and the newest 256 every 10 s.</summary>
public sealed class UploadListLoader : BackgroundService
{
    private readonly UploadList _list;
    private readonly CatalogStore _catalog;
    private readonly ILogger<UploadListLoader> _log;

    /// <summary>Creates the loader and subscribes the list to the feed.</summary>
    /// <param name="list">The list to fill.</param>
    /// <param name="feed">Committed entries.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="log">Logger.</param>
    public UploadListLoader(UploadList list, ImageFeed feed, CatalogStore catalog, ILogger<UploadListLoader> log)
    {
        _list = list;
        _catalog = catalog;
        _log = log;
        feed.OnEntry(list.Add);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loaded = false;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            try
            {
                await _list.LoadAsync(_catalog, all: !loaded, stoppingToken);
                loaded = true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogWarning("P2 LIST: reading the newest uploads failed: {Error}", e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
