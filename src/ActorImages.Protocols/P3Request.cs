using System.Globalization;
using System.Text;

namespace ActorImages.Protocols;

/// <summary>One image item of a P3 <c>REG</c>/<c>UPD</c> (docs/protocols.md, P3).</summary>
/// <param name="Md5">32 lowercase hex characters (lowercased on parse, whatever case was sent).</param>
/// <param name="Name">The file name as the peer gave it; may be empty or hold <c>,</c>, <c>'</c> and spaces;
/// never a control character, <c>/</c> or <c>\</c>, never over 255 UTF-8 bytes.</param>
public sealed record P3Image(string Md5, string Name);

/// <summary>
/// A request to the IDP2PI tracker (docs/protocols.md, P3), parsed from one UDP datagram by <see cref="Parse"/>
/// (server side) or rendered by <see cref="ToDatagram"/> (client side). Every malformed request is
/// <see cref="Invalid"/>, answered with <see cref="P3Reply.InvalidFormat"/>. <see cref="Reg"/>, <see cref="Upd"/>
/// and <see cref="End"/> hide the password from <c>ToString()</c>, so a log line never holds it.
/// </summary>
public abstract record P3Request
{
    /// <summary>The longest image name accepted, in UTF-8 bytes: what common file systems take as one name.</summary>
    public const int MaxNameBytes = 255;

    private P3Request() { }

    /// <summary><c>REG &lt;password&gt; &lt;port&gt; &lt;images&gt;</c>: register the identity (source IP,
    /// <paramref name="Port"/>), replacing an earlier registration of the same identity.</summary>
    /// <param name="Password">Non-empty, no space; may hold any punctuation (the seed-003 client's do).</param>
    /// <param name="Port">The peer's P4 port, 1 to 65535.</param>
    /// <param name="Images">The items in the order sent, duplicates kept; empty for <c>''</c>.</param>
    public sealed record Reg(string Password, int Port, IReadOnlyList<P3Image> Images) : P3Request
    {
        /// <summary>Equal when password, port and the images in order are equal.</summary>
        public bool Equals(Reg? other) => other is not null && Password == other.Password && Port == other.Port
            && Images.SequenceEqual(other.Images);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Password, Port, Images.Count);

        /// <inheritdoc/>
        public override string ToString() => $"Reg {{ Port = {Port}, Images = {Images.Count} }}";
    }

    /// <summary><c>UPD &lt;password&gt; &lt;port&gt; &lt;images&gt;</c>: replace the identity's images.</summary>
    /// <param name="Password">Non-empty, no space.</param>
    /// <param name="Port">1 to 65535.</param>
    /// <param name="Images">The items in the order sent.</param>
    public sealed record Upd(string Password, int Port, IReadOnlyList<P3Image> Images) : P3Request
    {
        /// <summary>Equal when password, port and the images in order are equal.</summary>
        public bool Equals(Upd? other) => other is not null && Password == other.Password && Port == other.Port
            && Images.SequenceEqual(other.Images);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Password, Port, Images.Count);

        /// <inheritdoc/>
        public override string ToString() => $"Upd {{ Port = {Port}, Images = {Images.Count} }}";
    }

    /// <summary><c>LST</c> (<paramref name="Offset"/> null), or the extension <c>LST &lt;offset&gt;</c>.</summary>
    /// <param name="Offset">How many listable items to skip, 0 to <see cref="int.MaxValue"/>; null for plain
    /// <c>LST</c>, which a node may answer from its cached first datagram.</param>
    public sealed record Lst(int? Offset) : P3Request;

    /// <summary><c>END &lt;password&gt; &lt;port&gt;</c>: remove the identity and all its holdings.</summary>
    /// <param name="Password">Non-empty, no space.</param>
    /// <param name="Port">1 to 65535.</param>
    public sealed record End(string Password, int Port) : P3Request
    {
        /// <inheritdoc/>
        public override string ToString() => $"End {{ Port = {Port} }}";
    }

    /// <summary>A malformed request: answer <c>ERR INVALID_MESSAGE_FORMAT</c>.</summary>
    public sealed record Invalid : P3Request;

    /// <summary>
    /// Parses one datagram. Never throws. The rules (docs/protocols.md, P3):
    /// <list type="bullet">
    /// <item>strict UTF-8 (a malformed or overlong sequence, an encoded surrogate → Invalid);</item>
    /// <item>trimmed of leading and trailing whitespace (a <c>\n</c> typed into <c>nc -u</c> is harmless), then
    /// split on single spaces into at most 4 parts, the 4th keeping its spaces; two spaces in a row make an empty
    /// part, hence Invalid;</item>
    /// <item>commands exactly <c>REG</c>, <c>UPD</c>, <c>LST</c>, <c>END</c> in uppercase, as every legacy
    /// client sends them;</item>
    /// <item>part counts: REG/UPD 4 (3 followed by a space before the trimming: the seed-002 client's empty list),
    /// END 3, LST 1 or 2; password non-empty; port ASCII digits, 1 to 65535;
    /// <c>LST &lt;offset&gt;</c> ASCII digits, 0 to <see cref="int.MaxValue"/>;</item>
    /// <item>images split on <c>;</c>; one pair of surrounding <c>'</c> stripped from each item (the seed-003
    /// client quotes every item and sends <c>''</c> for none); empty items skipped; each item split on its first
    /// <c>,</c> (none → Invalid) into an md5 of 32 hex characters (lowercased) and a name;</item>
    /// <item>a name with a control character, <c>/</c> or <c>\</c>, or over <see cref="MaxNameBytes"/> UTF-8
    /// bytes is Invalid: no legacy client sends one, and a peer that saves it would write outside its folder.</item>
    /// </list>
    /// </summary>
    /// <param name="datagram">The datagram's payload, exactly.</param>
    /// <returns>The request, or <see cref="Invalid"/>.</returns>
    public static P3Request Parse(ReadOnlySpan<byte> datagram)
    {
        if (!System.Text.Unicode.Utf8.IsValid(datagram))
        {
            return new Invalid();
        }
        var text = Encoding.UTF8.GetString(datagram);
        string[] parts = text.Trim().Split(' ', 4);
        if (parts.Length == 3 && parts[0] is "REG" or "UPD" && text.TrimEnd('\r', '\n').EndsWith(' '))
        {
            // The seed-002 client with no image sends "REG <pw> <port> ": the space is there, the list after it is
            // empty (docs/protocols.md, P3), as seed 003's ''. Without the space the request is still malformed.
            parts = [.. parts, ""];
        }
        return parts[0] switch
        {
            "REG" or "UPD" => Registration(parts),
            "LST" => List(parts),
            "END" when parts.Length == 3 && parts[1].Length > 0 && ParsePort(parts[2]) is > 0 and var port =>
                new End(parts[1], port),
            _ => new Invalid(),
        };
    }

    /// <summary>
    /// Whether <paramref name="datagram"/> is a tracker reply rather than a request: it starts with <c>OK </c> or
    /// <c>ERR </c>, or with 32 hex characters and a comma as an LST listing does. The tracker never answers such
    /// a datagram, so two trackers (or a spoofed source address) cannot make a reply loop.
    /// </summary>
    /// <param name="datagram">The datagram's payload.</param>
    public static bool IsReply(ReadOnlySpan<byte> datagram)
    {
        if (datagram.StartsWith("OK "u8) || datagram.StartsWith("ERR "u8))
        {
            return true;
        }
        if (datagram.Length <= Ascii.Md5HexLength || datagram[Ascii.Md5HexLength] != (byte)',')
        {
            return false;
        }
        foreach (byte b in datagram[..Ascii.Md5HexLength])
        {
            if (!Ascii.IsHexDigit(b))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The datagram a client sends for this request, UTF-8, no terminator (docs/protocols.md, P3). Images are
    /// written plain, <c>md5,name;md5,name</c>, as the seed-002 client does; an empty list as <c>''</c>, as the
    /// seed-003 client does (a tracker that trims the datagram would read a bare trailing space as a missing part).
    /// </summary>
    /// <returns>A fresh array.</returns>
    /// <exception cref="InvalidOperationException">For <see cref="Invalid"/>, which is never sent.</exception>
    public byte[] ToDatagram() => Encoding.UTF8.GetBytes(this switch
    {
        Reg r => $"REG {r.Password} {PortText(r.Port)} {Items(r.Images)}",
        Upd u => $"UPD {u.Password} {PortText(u.Port)} {Items(u.Images)}",
        Lst { Offset: null } => "LST",
        Lst l => "LST " + l.Offset!.Value.ToString(CultureInfo.InvariantCulture),
        End e => $"END {e.Password} {PortText(e.Port)}",
        _ => throw new InvalidOperationException("an invalid P3 request is never sent"),
    });

    private static string PortText(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string Items(IReadOnlyList<P3Image> images) =>
        images.Count == 0 ? "''" : string.Join(';', images.Select(i => i.Md5 + "," + i.Name));

    private static P3Request Registration(string[] parts)
    {
        int port = parts.Length == 4 ? ParsePort(parts[2]) : -1;
        var images = port > 0 && parts[1].Length > 0 ? ParseImages(parts[3]) : null;
        if (images is null)
        {
            return new Invalid();
        }
        return parts[0] == "REG" ? new Reg(parts[1], port, images) : new Upd(parts[1], port, images);
    }

    private static P3Request List(string[] parts)
    {
        if (parts.Length == 1)
        {
            return new Lst(null);
        }
        long offset = parts.Length == 2 ? Ascii.ParseDecimal(parts[1], int.MaxValue) : -1;
        return offset < 0 ? new Invalid() : new Lst((int)offset);
    }

    /// <summary>The port, or -1 unless it is 1 to 65535 in ASCII digits.</summary>
    private static int ParsePort(string text)
    {
        long port = Ascii.ParseDecimal(text, 65_535);
        return port < 1 ? -1 : (int)port;
    }

    /// <summary>The images of a REG/UPD, or null if any item is malformed.</summary>
    private static List<P3Image>? ParseImages(string list)
    {
        var images = new List<P3Image>();
        foreach (string raw in list.Split(';'))
        {
            var item = raw.AsSpan();
            if (item.Length >= 2 && item[0] == '\'' && item[^1] == '\'')
            {
                item = item[1..^1];
            }
            if (item.IsEmpty)
            {
                continue; // the seed-003 client's '' for "no image", or ';;' or a trailing ';'
            }
            int comma = item.IndexOf(',');
            string? md5 = comma < 0 ? null : Ascii.Md5OrNull(item[..comma]);
            var name = item[(comma + 1)..];
            if (md5 is null || !IsAcceptableName(name))
            {
                return null;
            }
            images.Add(new P3Image(md5, name.ToString()));
        }
        return images;
    }

    private static bool IsAcceptableName(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (char.IsControl(c) || c is '/' or '\\')
            {
                return false;
            }
        }
        return Encoding.UTF8.GetByteCount(name) <= MaxNameBytes;
    }
}
