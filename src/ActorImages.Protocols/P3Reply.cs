using System.Globalization;
using System.Text;

namespace ActorImages.Protocols;

/// <summary>
/// The IDP2PI tracker's replies (docs/protocols.md, P3), each the payload of one UDP datagram, ASCII or UTF-8
/// bytes without a line terminator (the legacy clients use one <c>recvfrom</c> as is). The <c>LST</c> listing is
/// <see cref="P3Listing"/>; <see cref="TryParseListing"/> reads one on the client side.
/// </summary>
public static class P3Reply
{
    /// <summary>The most bytes a <c>LST</c> reply may hold: the seed-002 client reads it with <c>recvfrom(4096)</c>.</summary>
    public const int MaxListBytes = 4096;

    /// <summary>The most bytes a REG/UPD/END reply may hold: the seed-002 client reads it with <c>recvfrom(1024)</c>.</summary>
    public const int MaxReplyBytes = 1024;

    /// <summary>Text of <see cref="Finished"/>.</summary>
    public const string FinishedText = "OK CLIENT_FINISHED";

    /// <summary>Text of <see cref="InvalidFormat"/>.</summary>
    public const string InvalidFormatText = "ERR INVALID_MESSAGE_FORMAT";

    /// <summary>Text of <see cref="WrongPassword"/>.</summary>
    public const string WrongPasswordText = "ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD";

    /// <summary>Text of <see cref="NoImages"/>.</summary>
    public const string NoImagesText = "ERR NO_IMAGES_AVAILABLE";

    /// <summary>Text of <see cref="Unavailable"/>.</summary>
    public const string UnavailableText = "ERR TRACKER_UNAVAILABLE";

    /// <summary><c>OK &lt;n&gt;_REGISTERED_IMAGES</c>, the reply to REG.</summary>
    /// <param name="count">How many images the registration holds.</param>
    public static byte[] Registered(int count) => Ascii("OK " + count.ToString(CultureInfo.InvariantCulture) + "_REGISTERED_IMAGES");

    /// <summary><c>OK &lt;n&gt;_REGISTERED_FILES</c>, the reply to UPD (the seeds' word differs from REG's).</summary>
    /// <param name="count">How many images the registration now holds.</param>
    public static byte[] Updated(int count) => Ascii("OK " + count.ToString(CultureInfo.InvariantCulture) + "_REGISTERED_FILES");

    /// <summary><c>OK CLIENT_FINISHED</c>, the reply to END.</summary>
    public static byte[] Finished() => Ascii(FinishedText);

    /// <summary><c>ERR INVALID_MESSAGE_FORMAT</c>, the reply to a <see cref="P3Request.Invalid"/>.</summary>
    public static byte[] InvalidFormat() => Ascii(InvalidFormatText);

    /// <summary><c>ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD</c>: UPD/END from an unknown identity or with a wrong password.</summary>
    public static byte[] WrongPassword() => Ascii(WrongPasswordText);

    /// <summary><c>ERR NO_IMAGES_AVAILABLE</c>: LST when nothing is listable (or nothing remains past the offset).</summary>
    public static byte[] NoImages() => Ascii(NoImagesText);

    /// <summary>
    /// <c>ERR TRACKER_UNAVAILABLE</c>: the tracker could not confirm a change on a majority in time, so nothing is
    /// promised. Not in the seeds (their tracker was one process); an <c>ERR</c> the legacy clients print like any
    /// other (docs/protocols.md, P3).
    /// </summary>
    public static byte[] Unavailable() => Ascii(UnavailableText);

    /// <summary>
    /// The <c>LST</c> reply for <paramref name="offset"/>, rendered for this request alone. A node that answers
    /// many requests between two changes keeps one <see cref="P3Listing"/> instead.
    /// </summary>
    /// <param name="itemsInListingOrder">The items in the order to list (docs/protocols.md, P3 ordering rule).</param>
    /// <param name="offset">How many listable items to skip, ≥ 0.</param>
    /// <returns>The page; <c>ERR NO_IMAGES_AVAILABLE</c> with 0 items when none remains.</returns>
    /// <exception cref="ArgumentException">As <see cref="P3Listing(IReadOnlyList{LstItem})"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">If <paramref name="offset"/> is negative.</exception>
    public static P3ListPage List(IReadOnlyList<LstItem> itemsInListingOrder, int offset) =>
        new P3Listing(itemsInListingOrder).Page(offset);

    /// <summary>
    /// Reads a reply to <c>LST</c> as a client: <c>md5,name,holder,…;…</c> into items, or
    /// <c>ERR NO_IMAGES_AVAILABLE</c> into none. Never throws.
    /// </summary>
    /// <param name="datagram">The reply's payload.</param>
    /// <param name="items">The items in the order listed; md5 lowercased; empty for NO_IMAGES_AVAILABLE.</param>
    /// <returns>False if the datagram is neither (another <c>ERR</c>, not UTF-8, an item without a holder or a
    /// valid md5); <paramref name="items"/> is then empty.</returns>
    public static bool TryParseListing(ReadOnlySpan<byte> datagram, out IReadOnlyList<LstItem> items)
    {
        items = [];
        if (!System.Text.Unicode.Utf8.IsValid(datagram))
        {
            return false;
        }
        string text = Encoding.UTF8.GetString(datagram);
        if (text == NoImagesText)
        {
            return true;
        }
        var parsed = new List<LstItem>();
        foreach (string item in text.Split(';'))
        {
            string[] parts = item.Split(',');
            string? md5 = parts.Length >= 3 ? Protocols.Ascii.Md5OrNull(parts[0]) : null;
            if (md5 is null || parts.Skip(2).Any(string.IsNullOrEmpty))
            {
                return false;
            }
            parsed.Add(new LstItem(md5, parts[1], parts[2..]));
        }
        items = parsed;
        return true;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
