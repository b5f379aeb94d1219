using System.Text;

namespace ActorImages.Protocols;

/// <summary>One image of the P3 <c>LST</c> listing (docs/protocols.md, P3).</summary>
/// <param name="Md5">32 hex characters in either case; listed in lowercase, as the peers' <c>hexdigest</c> writes it.</param>
/// <param name="Name">The name registered first, or the catalog's filename; <c>,</c> and <c>;</c> are listed as <c>_</c>.</param>
/// <param name="Holders"><c>ip:port</c> endpoints in the order to list them (up first, a cluster node's P4
/// endpoint before a legacy peer): the seed-002 client downloads from the first one only.</param>
public sealed record LstItem(string Md5, string Name, IReadOnlyList<string> Holders)
{
    /// <summary>Equal when md5, name and the holders in order are equal.</summary>
    public bool Equals(LstItem? other) => other is not null && Md5 == other.Md5 && Name == other.Name
        && Holders.SequenceEqual(other.Holders);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Md5, Name, Holders.Count);
}

/// <summary>One <c>LST</c> reply datagram and how many items it holds.</summary>
/// <param name="Datagram">At most <see cref="P3Reply.MaxListBytes"/> bytes: whole items, or
/// <c>ERR NO_IMAGES_AVAILABLE</c>. A read-only view; it may share storage with the listing it came from.</param>
/// <param name="ItemCount">Items in the datagram, 0 for NO_IMAGES_AVAILABLE: a client asks <c>LST
/// &lt;offset + ItemCount&gt;</c> next.</param>
public readonly record struct P3ListPage(ReadOnlyMemory<byte> Datagram, int ItemCount);

/// <summary>
/// The P3 <c>LST</c> listing rendered once per change of the catalog or the registrations, then answering any
/// <c>LST</c> or <c>LST &lt;offset&gt;</c> without copying (docs/protocols.md, P3). Every listable item is
/// rendered into one buffer, <c>item;item;…</c>, so a page is a slice of it found by a binary search: whole
/// items, at most 4,096 bytes, never an empty item nor a trailing <c>;</c> (each crashes the seed-002 client).
/// Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// An item is listable when it has a holder and <c>md5,name,firstHolder</c> alone fits in 4,096 bytes: without a
/// holder nobody could serve it, and a cut name would name a file that exists nowhere. Holders that would push a
/// lone item past 4,096 bytes are left out, keeping the first ones. Pages are packed in the given order until the
/// next item does not fit, which opens the next page.
/// </remarks>
public sealed class P3Listing
{
    private static readonly ReadOnlyMemory<byte> NoImages = P3Reply.NoImages();

    /// <summary><c>md5,name,holder…;md5,name,holder…</c>: every listable item, UTF-8.</summary>
    private readonly byte[] _rendered;

    /// <summary>Where item <c>i</c> starts in <see cref="_rendered"/>; one more entry, one past the end.</summary>
    private readonly int[] _starts;

    /// <summary>An empty listing: every page is <c>ERR NO_IMAGES_AVAILABLE</c>.</summary>
    public static readonly P3Listing Empty = new([]);

    /// <summary>Renders the listing.</summary>
    /// <param name="itemsInListingOrder">The items in the order to list: peers' registrations first, most recent
    /// first, then the cluster's own images, newest first (docs/protocols.md, P3).</param>
    /// <exception cref="ArgumentException">If an md5 is not 32 hex characters, or a holder is empty or holds
    /// <c>,</c> or <c>;</c> (either would break the legacy client's split; a caller bug).</exception>
    public P3Listing(IReadOnlyList<LstItem> itemsInListingOrder)
    {
        var rendered = new MemoryStream(itemsInListingOrder.Count * 80);
        var starts = new List<int>(itemsInListingOrder.Count + 1);
        var listable = new List<LstItem>(itemsInListingOrder.Count);
        var item = new byte[P3Reply.MaxListBytes];
        foreach (var image in itemsInListingOrder)
        {
            int length = Render(image, item);
            if (length == 0)
            {
                continue;
            }
            if (starts.Count > 0)
            {
                rendered.WriteByte((byte)';');
            }
            starts.Add((int)rendered.Length);
            rendered.Write(item, 0, length);
            listable.Add(image);
        }
        starts.Add((int)rendered.Length + 1); // as if a ';' followed the last item
        _rendered = rendered.ToArray();
        _starts = starts.ToArray();
        Items = listable;
        First = Pack(0);
    }

    /// <summary>The listable items, in listing order (<see cref="Count"/> of them): item <c>i</c> is the one
    /// <c>LST i</c> starts with.</summary>
    public IReadOnlyList<LstItem> Items { get; }

    /// <summary>Number of listable items: what <c>LST &lt;offset&gt;</c> counts.</summary>
    public int Count => _starts.Length - 1;

    /// <summary>The reply to plain <c>LST</c>, the same as <c>Page(0)</c>, rendered once.</summary>
    public P3ListPage First { get; }

    /// <summary>The reply to <c>LST &lt;offset&gt;</c>: O(log n), no copy.</summary>
    /// <param name="offset">How many listable items to skip, ≥ 0.</param>
    /// <returns>The page; <c>ERR NO_IMAGES_AVAILABLE</c> with 0 items when none remains past the offset.</returns>
    /// <exception cref="ArgumentOutOfRangeException">If <paramref name="offset"/> is negative.</exception>
    public P3ListPage Page(int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return offset == 0 ? First : Pack(offset);
    }

    private P3ListPage Pack(int offset)
    {
        if (offset >= Count)
        {
            return new P3ListPage(NoImages, 0);
        }
        int from = _starts[offset];
        // The largest last item k with End(k) - from <= 4096; End(k) = _starts[k + 1] - 1 grows with k, and k =
        // offset always fits, because no item longer than 4,096 bytes was rendered.
        int lo = offset, hi = Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_starts[mid + 1] - 1 - from <= P3Reply.MaxListBytes)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return new P3ListPage(_rendered.AsMemory(from, _starts[lo + 1] - 1 - from), lo - offset + 1);
    }

    /// <summary>Writes one item into <paramref name="item"/>; returns its length, or 0 if it is not listable.</summary>
    private static int Render(LstItem image, byte[] item)
    {
        string md5 = Ascii.Md5OrNull(image.Md5 ?? "")
            ?? throw new ArgumentException($"md5 must be 32 hex characters: '{image.Md5}'", nameof(image));
        foreach (string holder in image.Holders)
        {
            if (string.IsNullOrEmpty(holder) || holder.AsSpan().IndexOfAny(',', ';') >= 0)
            {
                throw new ArgumentException($"holder must be a non-empty ip:port: '{holder}'", nameof(image));
            }
        }
        if (image.Holders.Count == 0)
        {
            return 0;
        }
        int nameBytes = Encoding.UTF8.GetByteCount(image.Name);
        int length = Ascii.Md5HexLength + 1 + nameBytes;
        if (length > item.Length)
        {
            return 0;
        }
        Encoding.ASCII.GetBytes(md5, item);
        item[Ascii.Md5HexLength] = (byte)',';
        var name = item.AsSpan(Ascii.Md5HexLength + 1, nameBytes);
        Encoding.UTF8.GetBytes(image.Name, name);
        // ',' and ';' are single bytes that never occur inside a multi-byte UTF-8 sequence.
        name.Replace((byte)',', (byte)'_');
        name.Replace((byte)';', (byte)'_');
        int holders = 0;
        foreach (string holder in image.Holders)
        {
            int bytes = 1 + Encoding.UTF8.GetByteCount(holder);
            if (length + bytes > item.Length)
            {
                break;
            }
            item[length] = (byte)',';
            length += 1 + Encoding.UTF8.GetBytes(holder, item.AsSpan(length + 1));
            holders++;
        }
        return holders == 0 ? 0 : length;
    }
}
