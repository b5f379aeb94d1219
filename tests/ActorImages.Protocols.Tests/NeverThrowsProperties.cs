using System.Buffers;
using System.Text;
using CsCheck;
using Xunit;

namespace ActorImages.Protocols.Tests;

/// Random and mutated input for every decoder: each gets a protocol answer (Invalid, an error text, need more) or
/// a clean result, never an exception (docs/protocols.md, "Bad input").
public class NeverThrowsProperties
{
    private const string A = "0cc175b9c0f1b6a831c399e269772661";

    /// Valid requests with bytes flipped, inserted or removed: the mutations a flaky or hostile sender makes.
    private static Gen<byte[]> Mutated(params string[] valid) =>
        Gen.Select(Gen.OneOf(valid), Gen.Int[0, 6], Gen.Int, Gen.Byte, (text, kind, at, value) =>
        {
            var bytes = Encoding.UTF8.GetBytes(text).ToList();
            int i = bytes.Count == 0 ? 0 : (int)((uint)at % bytes.Count);
            switch (kind)
            {
                case 0 when bytes.Count > 0: bytes[i] = value; break;
                case 1: bytes.Insert(i, value); break;
                case 2 when bytes.Count > 0: bytes.RemoveAt(i); break;
                case 3: bytes.RemoveRange(i, bytes.Count - i); break;
                case 4: bytes.Insert(i, (byte)' '); break;
                case 5: bytes.InsertRange(i, "';,"u8.ToArray()); break;
            }
            return bytes.ToArray();
        });

    [Fact]
    public void P1HeaderOfAnyBytesIsALengthOrNeedMore()
    {
        Gen.Select(Gen.Byte.Array[0, 12], Gen.Int[1, 5], Gen.Long[1, uint.MaxValue]).Sample((bytes, segment, max) =>
        {
            var buffer = TestData.Chunked(bytes, segment);
            bool read = P1Frame.TryReadHeader(ref buffer, out uint length);
            Assert.Equal(bytes.Length >= 4, read);
            if (read)
            {
                Assert.Equal(bytes.Length - 4, buffer.Length);
                bool ok = P1Frame.IsAcceptableLength(length, max, out string? reason);
                Assert.Equal(length >= 1 && length <= max, ok);
                Assert.Equal(ok, reason is null);
            }
        });
    }

    private static readonly string[] P2Valid =
    [
        "{\"cmd\": \"AUTH\", \"args\": [\"maria\"]}",
        "{\"cmd\": \"UPLOAD\", \"args\": [\"foto.jpg\", \"123456\"]}",
        "{\"cmd\": \"DOWNLOAD\", \"args\": [\"foto.jpg\"]}",
        "{\"cmd\":\"LIST\",\"args\":[]}",
    ];

    private static void AssertP2Answer(P2Request request)
    {
        Assert.NotNull(request);
        if (request is P2Request.Invalid invalid)
        {
            Assert.Contains(invalid.ErrorMessage, new[] { P2Reply.NotJson, P2Reply.UnknownCommand, P2Reply.UploadFormat,
                P2Reply.InvalidSize, P2Reply.FilenameFormat });
        }
    }

    [Fact]
    public void P2AnyTextIsACommandOrASeedErrorText()
    {
        const string alphabet = "{}[]\":,\\ 0123456789.eE+-tnuflasrCMDUPLOAVIEWcmdargs\u00e9\ud800\u0001";
        Gen.String[Gen.Char[alphabet], 0, 60].Select(s => "{\"cmd\":" + s).Sample(frame => AssertP2Answer(P2Request.Parse(frame)),
            iter: 20_000);
        Gen.String.Sample(frame => AssertP2Answer(P2Request.Parse(frame)));
        Mutated(P2Valid).Sample(bytes => AssertP2Answer(P2Request.Parse(Encoding.UTF8.GetString(bytes))), iter: 20_000);
    }

    [Fact]
    public void P2ServerMessageOfAnyTextIsClassified()
    {
        Mutated(P2Reply.SizeInfo(1, "a", P2TransferMode.View), P2Reply.History(["x"]), P2Reply.List([new("a", "b")]))
            .Sample(bytes => Assert.NotNull(P2ServerMessage.Parse(Encoding.UTF8.GetString(bytes))), iter: 10_000);
    }

    [Fact]
    public void P3AnyDatagramIsARequestOrInvalid()
    {
        Gen.Byte.Array[0, 200].Sample(bytes => Assert.NotNull(P3Request.Parse(bytes)), iter: 20_000);
        Mutated($"REG p'w;\"x 5000 '{A},a.jpg';'{A},b b.png'", $"UPD pw 5000 {A},x.gif", "LST 12", "END pw 5000", "LST")
            .Sample(bytes =>
            {
                var request = P3Request.Parse(bytes);
                Assert.NotNull(request);
                Assert.False(P3Request.IsReply(bytes) && request is not P3Request.Invalid, "a reply parsed as a request");
                if (request is P3Request.Reg reg)
                {
                    Assert.All(reg.Images, i => Assert.True(P4Request.IsMd5(i.Md5) && i.Md5 == i.Md5.ToLowerInvariant()));
                    Assert.InRange(reg.Port, 1, 65535);
                    Assert.DoesNotContain(' ', reg.Password);
                }
            }, iter: 20_000);
    }

    [Fact]
    public void P3ListingOfAnyNamesIsWholeItemsWithin4096Bytes()
    {
        var item = Gen.Select(Gen.Int[0, 1000], Gen.String[Gen.Char, 0, 700], Gen.Int[0, 3],
            (n, name, holders) => new LstItem(TestData.Md5(n), name, Enumerable.Range(0, holders).Select(h => $"h{h}:1").ToArray()));
        Gen.Select(item.List[0, 60], Gen.Int[0, 70]).Sample((items, offset) =>
        {
            var page = P3Reply.List(items, offset);
            Assert.InRange(page.Datagram.Length, 1, P3Reply.MaxListBytes);
            Assert.True(P3Reply.TryParseListing(page.Datagram.Span, out var parsed));
            Assert.Equal(page.ItemCount, parsed.Count);
        }, iter: 2_000);
    }

    [Fact]
    public void P4AnyBytesAreGetNeedMoreOrInvalid()
    {
        Gen.Select(Gen.Byte.Array[0, 50], Gen.Int[1, 8]).Sample((bytes, segment) =>
            Assert.NotNull(P4Request.Parse(TestData.Chunked(bytes, segment))), iter: 10_000);
        Mutated("GET " + A).Sample(bytes => Assert.NotNull(P4Request.Parse(new ReadOnlySequence<byte>(bytes))), iter: 10_000);
    }
}
