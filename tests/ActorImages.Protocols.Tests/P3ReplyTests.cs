using System.Text;
using Xunit;
using static ActorImages.Protocols.Tests.TestData;

namespace ActorImages.Protocols.Tests;

public class P3ReplyTests
{
    private const string NoImages = "ERR NO_IMAGES_AVAILABLE";

    private static LstItem Item(int n, string name, params string[] holders) => new(Md5(n), name, holders);

    private static string ListText(IReadOnlyList<LstItem> items, int offset) => Text(P3Reply.List(items, offset).Datagram);

    public static TheoryData<byte[], string> FixedReplies => new()
    {
        { P3Reply.Registered(3), "OK 3_REGISTERED_IMAGES" },
        { P3Reply.Registered(0), "OK 0_REGISTERED_IMAGES" },
        { P3Reply.Updated(12), "OK 12_REGISTERED_FILES" },
        { P3Reply.Finished(), "OK CLIENT_FINISHED" },
        { P3Reply.InvalidFormat(), "ERR INVALID_MESSAGE_FORMAT" },
        { P3Reply.WrongPassword(), "ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD" },
        { P3Reply.NoImages(), NoImages },
        { P3Reply.Unavailable(), "ERR TRACKER_UNAVAILABLE" },
    };

    [Theory]
    [MemberData(nameof(FixedReplies))]
    public void FixedRepliesAreTheSeedsTextWithoutTerminator(byte[] reply, string expected) =>
        Assert.Equal(expected, Text(reply));

    [Fact]
    public void LstListsEveryHolderInTheGivenOrder()
    {
        var items = new[] { Item(1, "new.jpg", "10.0.0.1:6000", "10.0.0.9:41234"), Item(2, "old.png", "10.0.0.2:6000") };
        var page = P3Reply.List(items, 0);
        Assert.Equal($"{Md5(1)},new.jpg,10.0.0.1:6000,10.0.0.9:41234;{Md5(2)},old.png,10.0.0.2:6000", Text(page.Datagram));
        Assert.Equal(2, page.ItemCount);
    }

    [Fact]
    public void LstOfNothingIsNoImagesAvailable()
    {
        Assert.Equal(NoImages, ListText([], 0));
        Assert.Equal(NoImages, ListText([Item(1, "a.jpg")], 0));
        Assert.Equal(NoImages, ListText([Item(1, "a.jpg", "h:1")], 1));
        Assert.Equal(NoImages, ListText([Item(1, "a.jpg", "h:1")], int.MaxValue));
        Assert.Equal(0, P3Reply.List([], 0).ItemCount);
    }

    [Fact]
    public void ItemWithoutHolderIsSkippedAndDoesNotCountForTheOffset()
    {
        LstItem[] items = [Item(1, "gone.jpg"), Item(2, "b.jpg", "h:2"), Item(3, "c.jpg", "h:3")];
        Assert.Equal($"{Md5(2)},b.jpg,h:2;{Md5(3)},c.jpg,h:3", ListText(items, 0));
        Assert.Equal($"{Md5(3)},c.jpg,h:3", ListText(items, 1));
    }

    [Theory]
    [InlineData("a,b.jpg", "a_b.jpg")]
    [InlineData("a;b.jpg", "a_b.jpg")]
    [InlineData(",;,;", "____")]
    [InlineData("", "")]
    [InlineData("fotó 日本.jpg", "fotó 日本.jpg")]
    [InlineData("it's \"q\".jpg", "it's \"q\".jpg")]
    public void CommaAndSemicolonInNamesAreListedAsUnderscore(string name, string listed) =>
        Assert.Equal($"{Md5(1)},{listed},h:1", ListText([Item(1, name, "h:1")], 0));

    [Fact]
    public void Md5IsListedInLowercase() =>
        Assert.Equal($"{Md5(0xABC)},a,h:1", ListText([new LstItem(Md5(0xABC).ToUpperInvariant(), "a", ["h:1"])], 0));

    private static List<LstItem> Catalog(int size, Func<int, string> name, int holders) =>
        Enumerable.Range(0, size).Select(i => new LstItem(Md5(i), name(i),
            Enumerable.Range(0, holders).Select(h => $"192.168.1.{h + 1}:{5000 + i}").ToArray())).ToList();

    public static TheoryData<string, List<LstItem>> Catalogs => new()
    {
        { "500 short items", Catalog(500, i => $"img{i}.jpg", 2) },
        { "200 items, 3-byte characters", Catalog(200, i => string.Concat(Enumerable.Repeat("日本", i % 40)) + ".jpg", 1) },
        { "100 items, names with , and ;", Catalog(100, i => string.Concat(Enumerable.Repeat("a,b;c", i % 30)), 3) },
        { "70 items, 4-byte characters", Catalog(70, i => string.Concat(Enumerable.Repeat("😀", i * 7 % 300)), 2) },
    };

    private static string Rendered(LstItem item) =>
        $"{item.Md5},{item.Name.Replace(',', '_').Replace(';', '_')},{string.Join(',', item.Holders)}";

    /// What the seed-002 client does with the reply: split on ';', then on ',', and index md5, name, holder.
    private static string[] SplitLikeTheSeed002Client(string reply)
    {
        string[] items = reply.Split(';');
        foreach (string item in items)
        {
            string[] parts = item.Split(',');
            Assert.True(parts.Length >= 3, "item too short: " + item);
            Assert.Equal(32, parts[0].Length);
            Assert.Matches("^[^:]+:[0-9]+$", parts[2]);
        }
        return items;
    }

    [Theory]
    [MemberData(nameof(Catalogs))]
    public void LstReplyNeverExceeds4096BytesAndEndsOnAWholeItem(string description, List<LstItem> catalog)
    {
        var seen = new List<string>();
        for (int offset = 0; ;)
        {
            var page = P3Reply.List(catalog, offset);
            string text = Text(page.Datagram);
            if (text == NoImages)
            {
                break;
            }
            Assert.True(page.Datagram.Length <= P3Reply.MaxListBytes, $"{description}: {page.Datagram.Length} bytes");
            Assert.False(text.EndsWith(';'));
            string[] items = SplitLikeTheSeed002Client(text);
            Assert.Equal(items.Length, page.ItemCount);
            seen.AddRange(items);
            offset += items.Length;
            if (offset < catalog.Count) // the page is full: the next item would not have fitted
            {
                int next = Encoding.UTF8.GetByteCount(Rendered(catalog[offset]));
                Assert.True(page.Datagram.Length + 1 + next > P3Reply.MaxListBytes, "page closed early at " + offset);
            }
        }
        Assert.Equal(catalog.Select(Rendered), seen);
    }

    [Fact]
    public void ItemsThatFillExactly4096BytesAreAllListed()
    {
        // Each item: 32 (md5) + 1 + name + 1 + 6 ("h:1234") bytes; 8 items and 7 separators make 4,096 bytes.
        const int nameBytes = (4096 - 7) / 8 - 40; // 471, the remainder 1 goes to the last name
        var catalog = Enumerable.Range(0, 8).Select(i => Item(i, new string('n', nameBytes + (i == 7 ? 1 : 0)), "h:1234"))
            .Append(Item(8, "x", "h:1234")).ToList();
        var page = P3Reply.List(catalog, 0);
        Assert.Equal(4096, page.Datagram.Length);
        Assert.Equal(8, page.ItemCount);
        Assert.Equal($"{Md5(8)},x,h:1234", ListText(catalog, 8));
    }

    [Fact]
    public void OneByteTooManyMovesTheLastItemToTheNextPage()
    {
        var catalog = Enumerable.Range(0, 8).Select(i => Item(i, new string('n', 471 + (i == 7 ? 2 : 0)), "h:1234")).ToList();
        var page = P3Reply.List(catalog, 0);
        Assert.Equal(7 * 511 + 6, page.Datagram.Length); // 4,097 bytes with the 8th item
        Assert.Equal(7, page.ItemCount);
    }

    [Fact]
    public void MultibyteNamesAreCountedInBytesNotCharacters()
    {
        // 1,100 'é' are 1,100 chars but 2,200 bytes: two such items fit in 4,096 chars but not in 4,096 bytes.
        var catalog = Enumerable.Range(1, 3).Select(i => Item(i, new string('é', 1100), $"h:{i}")).ToList();
        var page = P3Reply.List(catalog, 0);
        Assert.True(page.Datagram.Length <= 4096);
        Assert.Equal(1, page.ItemCount);
    }

    [Fact]
    public void AnItemTooLargeForAnyReplyIsSkippedNeverAnEmptyReply()
    {
        string huge = new('x', 5000);
        Assert.Equal(NoImages, ListText([Item(1, huge, "h:1")], 0));
        Assert.Equal($"{Md5(2)},small.jpg,h:2", ListText([Item(1, huge, "h:1"), Item(2, "small.jpg", "h:2")], 0));
        // The largest name that still fits with one holder: 4,096 - 32 - 1 - 1 - 3 bytes; the second holder is dropped.
        Assert.Equal(4096, P3Reply.List([Item(3, new string('y', 4096 - 37), "h:3", "h:4")], 0).Datagram.Length);
    }

    [Fact]
    public void HoldersBeyond4096BytesAreDroppedKeepingTheFirst()
    {
        var holders = Enumerable.Range(0, 500).Select(i => $"10.0.{i / 256}.{i % 256}:{40000 + i}").ToList();
        var page = P3Reply.List([new LstItem(Md5(1), "popular.jpg", holders)], 0);
        string[] parts = Text(page.Datagram).Split(',');
        Assert.True(page.Datagram.Length <= 4096);
        Assert.Equal("10.0.0.0:40000", parts[2]);
        Assert.Equal(holders.Take(parts.Length - 2), parts.Skip(2));
    }

    /// One listing, shared by every LST between two changes, answers each offset as one rendered for that request.
    [Theory]
    [MemberData(nameof(Catalogs))]
    public void ASharedListingAnswersEveryOffsetAsAFreshOne(string description, List<LstItem> catalog)
    {
        var shared = new P3Listing(catalog);
        Assert.Equal(catalog.Count, shared.Count);
        for (int offset = 0; offset <= shared.Count + 1; offset++)
        {
            var fresh = new P3Listing(catalog).Page(offset);
            var page = shared.Page(offset);
            Assert.Equal(Text(fresh.Datagram), Text(page.Datagram));
            Assert.Equal(fresh.ItemCount, page.ItemCount);
        }
        Assert.Equal(Text(shared.Page(0).Datagram), Text(shared.First.Datagram));
        Assert.Throws<ArgumentOutOfRangeException>(() => shared.Page(-1));
        Assert.Equal(NoImages, Text(P3Listing.Empty.First.Datagram));
        _ = description;
    }

    [Fact]
    public void BadItemsAreCallerBugs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => P3Reply.List([], -1));
        Assert.Throws<ArgumentException>(() => P3Reply.List([new LstItem("abc", "a", ["h:1"])], 0));
        Assert.Throws<ArgumentException>(() => P3Reply.List([new LstItem(Md5(1), "a", ["h,1"])], 0));
        Assert.Throws<ArgumentException>(() => P3Reply.List([new LstItem(Md5(1), "a", ["h;1"])], 0));
        Assert.Throws<ArgumentException>(() => P3Reply.List([new LstItem(Md5(1), "a", [""])], 0));
    }

    [Fact]
    public void ClientReadsAListingBackIntoItems()
    {
        var catalog = Catalog(50, i => $"fotó {i}.jpg", 2);
        Assert.True(P3Reply.TryParseListing(P3Reply.List(catalog, 0).Datagram.Span, out var items));
        Assert.Equal(catalog, items);
        Assert.True(P3Reply.TryParseListing(P3Reply.NoImages(), out var none));
        Assert.Empty(none);
        Assert.False(P3Reply.TryParseListing(P3Reply.InvalidFormat(), out _));
        Assert.False(P3Reply.TryParseListing(Utf8($"{Md5(1)},a.jpg"), out _)); // no holder
        Assert.False(P3Reply.TryParseListing(Utf8($"{Md5(1)},a.jpg,h:1;"), out _)); // trailing ';'
        Assert.False(P3Reply.TryParseListing([0xff], out _));
    }
}
