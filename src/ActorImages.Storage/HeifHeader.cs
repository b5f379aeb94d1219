using System.Buffers.Binary;

namespace ActorImages.Storage;

/// <summary>
/// Reads the size of a HEIF file's primary image (HEIC, HEIF, AVIF) as it is shown: the <c>ispe</c> property that the
/// <c>ipma</c> box associates with the item named by <c>pitm</c>, all inside the top-level <c>meta</c> box (ISO/IEC
/// 23008-12, 9.3; ISO/IEC 14496-12, 8.11), its sides swapped when an <c>irot</c> property of the same item turns it a
/// quarter (ISO/IEC 23008-12, 6.5.10: <c>ispe</c> is the size before the transformations) — how a phone stores a
/// portrait photo. A grid's primary item (an iPhone's photo) has its own <c>ispe</c>, the whole picture's. Reads the
/// size of the primary image's thumbnail item the same way (<see cref="ReadThumbnailSide"/>, for
/// <see cref="HeifThumbnailer"/>).
/// </summary>
/// <remarks>
/// Not MetadataExtractor's HEIF reader, which was the first choice: fed bytes a client can send, it sized an array by a
/// count in the file before checking the count against the bytes there — a 14 KB AVIF whose <c>ipma</c> entry count
/// says 989 million made it allocate 7.5 GB (in a node with a heap limit, an out-of-memory end; README "Limits and
/// security") — and threw <see cref="NullReferenceException"/> and <see cref="InvalidDataException"/> on others (75 and
/// 32 of 6,000 mutations of the test files). This reads only the boxes it needs, never allocates by a count from the
/// file, and checks every size and count against the bytes that hold it: at most <see cref="MaxMetaBytes"/> are read.
/// </remarks>
public static class HeifHeader
{
    /// <summary>The largest <c>meta</c> box read: 4 MiB (a phone's is a few KiB; a grid of hundreds of tiles tens).</summary>
    public const int MaxMetaBytes = 4 << 20;

    /// <summary>Reads the primary image's width and height as shown from <paramref name="file"/>.</summary>
    /// <param name="file">a file whose first box is <c>ftyp</c></param>
    /// <returns>width and height in pixels, after a quarter turn of <c>irot</c>, or null when the boxes do not say them
    /// (missing, cut or inconsistent)</returns>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static (long Width, long Height)? Read(string file)
    {
        using var stream = File.OpenRead(file);
        var meta = FindMeta(stream);
        return meta is not null && Items.TryRead(meta, out var items) ? items.Size(items.Primary) : null;
    }

    /// <summary>
    /// Reads the longest side of the primary image's first thumbnail in <paramref name="file"/>: the image item of lowest
    /// id that an <c>iref</c> reference of type <c>thmb</c> ties to the primary item (ISO/IEC 23008-12, 6.4.6), the one
    /// libheif's <c>heif-thumbnailer</c> considers. A phone's HEIC carries one of 320 or 512 pixels beside its 12 or 48
    /// megapixels.
    /// </summary>
    /// <param name="file">a file whose first box is <c>ftyp</c></param>
    /// <returns>pixels, or null when the primary image has no thumbnail or the boxes do not say its size</returns>
    /// <exception cref="IOException">the file cannot be read</exception>
    public static long? ReadThumbnailSide(string file)
    {
        using var stream = File.OpenRead(file);
        var meta = FindMeta(stream);
        return meta is not null && Items.TryRead(meta, out var items) && items.FirstThumbnail() is { } thumbnail
            && items.Size(thumbnail) is var (width, height)
            ? Math.Max(width, height)
            : null;
    }

    /// <summary>The content of the top-level <c>meta</c> box (after its version and flags), or null.</summary>
    private static byte[]? FindMeta(FileStream stream)
    {
        Span<byte> header = stackalloc byte[16];
        long at = 0, length = stream.Length;
        while (at + 8 <= length)
        {
            stream.Position = at;
            var read = stream.ReadAtLeast(header, 16, throwOnEndOfStream: false);
            var size = BoxSize(header[..read], length - at, out var headerSize);
            if (size < 0) return null;
            if (header[4..8].SequenceEqual("meta"u8))
            {
                // A full box: version and flags, then the children.
                var content = size - headerSize - 4;
                if (content < 0 || content > MaxMetaBytes) return null;
                var meta = new byte[content];
                stream.Position = at + headerSize + 4;
                return stream.ReadAtLeast(meta, meta.Length, throwOnEndOfStream: false) == meta.Length ? meta : null;
            }
            at += size;
        }
        return null;
    }

    /// <summary>The size of the box whose header starts <paramref name="header"/> (ISO/IEC 14496-12, 4.2: 32 bits, 1 for
    /// a 64-bit size after the type, 0 for "to the end"), with <paramref name="available"/> bytes from its start to the
    /// end of what holds it; -1 when the header is cut or the size does not fit.</summary>
    private static long BoxSize(ReadOnlySpan<byte> header, long available, out int headerSize)
    {
        headerSize = 8;
        if (header.Length < 8) return -1;
        long size = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (size == 1)
        {
            if (header.Length < 16) return -1;
            size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(header[8..]), long.MaxValue);
            headerSize = 16;
        }
        else if (size == 0)
        {
            size = available;
        }
        return size < headerSize || size > available ? -1 : size;
    }

    /// <summary>The boxes of <c>meta</c> that describe its items: the primary item's id (<c>pitm</c>), the property
    /// boxes (<c>ipco</c>), their associations with items (<c>ipma</c>) and the references between items
    /// (<c>iref</c>, empty when there is none).</summary>
    private readonly ref struct Items
    {
        private readonly ReadOnlySpan<byte> _properties;
        private readonly ReadOnlySpan<byte> _associations;
        private readonly ReadOnlySpan<byte> _references;

        private Items(long primary, ReadOnlySpan<byte> properties, ReadOnlySpan<byte> associations,
            ReadOnlySpan<byte> references)
        {
            Primary = primary;
            _properties = properties;
            _associations = associations;
            _references = references;
        }

        /// <summary>The primary item's id.</summary>
        public long Primary { get; }

        /// <summary>Finds the item boxes in the content of a <c>meta</c> box; false when it names no primary item or
        /// associates no properties.</summary>
        public static bool TryRead(ReadOnlySpan<byte> meta, out Items items)
        {
            long? primary = null;
            ReadOnlySpan<byte> properties = default, associations = default, references = default;
            foreach (var box in Children(meta))
            {
                var body = box.Body;
                if (box.Is("pitm"u8) && body.Length >= 6)
                {
                    // A full box: version 0 has a 16-bit item id, later ones 32 bits.
                    if (body[0] == 0) primary = BinaryPrimitives.ReadUInt16BigEndian(body[4..]);
                    else if (body.Length >= 8) primary = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                }
                else if (box.Is("iref"u8) && references.IsEmpty && body.Length >= 4)
                {
                    references = body;
                }
                else if (box.Is("iprp"u8))
                {
                    foreach (var child in Children(body))
                    {
                        if (child.Is("ipco"u8)) properties = child.Body;
                        else if (child.Is("ipma"u8) && associations.IsEmpty && child.Body.Length >= 8) associations = child.Body;
                    }
                }
            }
            items = primary is { } item && !associations.IsEmpty ? new Items(item, properties, associations, references) : default;
            return primary is not null && !associations.IsEmpty;
        }

        /// <summary>The lowest id of an item that a <c>thmb</c> reference ties to the primary item, or null.</summary>
        public long? FirstThumbnail()
        {
            if (_references.IsEmpty) return null;
            // iref: version/flags, then one box per reference type and source item: the source's id (16 bits, 32 from
            // version 1), a 16-bit count and the target ids.
            var idBytes = _references[0] == 0 ? 2 : 4;
            long? first = null;
            foreach (var reference in Children(_references[4..]))
            {
                var body = reference.Body;
                if (!reference.Is("thmb"u8) || body.Length < idBytes + 2) continue;
                var from = ReadId(body, idBytes);
                int count = BinaryPrimitives.ReadUInt16BigEndian(body[idBytes..]);
                var targets = body[(idBytes + 2)..];
                for (var k = 0; k < count && targets.Length >= (k + 1) * idBytes; k++)
                {
                    if (ReadId(targets[(k * idBytes)..], idBytes) == Primary && (first is null || from < first)) first = from;
                }
            }
            return first;
        }

        /// <summary>The width and height of <paramref name="item"/> as shown: its <c>ispe</c>, swapped by a quarter turn
        /// of its <c>irot</c>; null when no <c>ispe</c> is associated with it or the boxes are cut.</summary>
        public (long Width, long Height)? Size(long item)
        {
            // ipma: version/flags, entry count; per entry the item id (16 bits, 32 from version 1), an association
            // count and per association a property index (7 bits, 15 with flag 1) behind an "essential" bit.
            var count = BinaryPrimitives.ReadUInt32BigEndian(_associations[4..]);
            var rest = _associations[8..];
            var idBytes = _associations[0] < 1 ? 2 : 4;
            var indexBytes = (_associations[3] & 1) != 0 ? 2 : 1;
            for (long entry = 0; entry < count; entry++)
            {
                if (rest.Length < idBytes + 1) return null;
                var id = ReadId(rest, idBytes);
                int n = rest[idBytes];
                rest = rest[(idBytes + 1)..];
                if (rest.Length < n * indexBytes) return null;
                if (id == item)
                {
                    (long Width, long Height)? size = null;
                    var quarterTurn = false;
                    for (var k = 0; k < n; k++)
                    {
                        var index = indexBytes == 1 ? rest[k] & 0x7F : BinaryPrimitives.ReadUInt16BigEndian(rest[(2 * k)..]) & 0x7FFF;
                        if (!TryProperty(_properties, index, out var property)) continue;
                        // A full box: version and flags, then width and height, 32 bits each.
                        var body = property.Body;
                        if (property.Is("ispe"u8) && body.Length >= 12 && size is null)
                            size = (BinaryPrimitives.ReadUInt32BigEndian(body[4..]), BinaryPrimitives.ReadUInt32BigEndian(body[8..]));
                        // Six reserved bits, then the angle in units of 90° anticlockwise.
                        else if (property.Is("irot"u8) && body.Length >= 1)
                            quarterTurn = (body[0] & 1) == 1;
                    }
                    return size is var (width, height) && quarterTurn ? (height, width) : size;
                }
                rest = rest[(n * indexBytes)..];
            }
            return null;
        }

        private static long ReadId(ReadOnlySpan<byte> data, int idBytes) =>
            idBytes == 2 ? BinaryPrimitives.ReadUInt16BigEndian(data) : BinaryPrimitives.ReadUInt32BigEndian(data);
    }

    /// <summary>The <paramref name="index"/>-th property box (1-based) in <c>ipco</c>, if there is one.</summary>
    private static bool TryProperty(ReadOnlySpan<byte> properties, int index, out Box property)
    {
        var i = 0;
        foreach (var box in Children(properties))
        {
            if (++i != index) continue;
            property = box;
            return true;
        }
        property = default;
        return false;
    }

    /// <summary>The boxes laid one after another in <paramref name="data"/>, each as its type and content; stops at the
    /// first whose size does not fit.</summary>
    private static BoxEnumerator Children(ReadOnlySpan<byte> data) => new(data);

    /// <summary>One box: its four-character type and its content after the header.</summary>
    private readonly ref struct Box(ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _type = type;

        public ReadOnlySpan<byte> Body { get; } = body;

        public bool Is(ReadOnlySpan<byte> type) => _type.SequenceEqual(type);
    }

    private ref struct BoxEnumerator(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public Box Current { get; private set; }

        public readonly BoxEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            var size = BoxSize(_rest, _rest.Length, out var headerSize);
            if (size < 0) return false;
            Current = new Box(_rest[4..8], _rest[headerSize..(int)size]);
            _rest = _rest[(int)size..];
            return true;
        }
    }
}
