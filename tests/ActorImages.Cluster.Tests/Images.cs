using System.Security.Cryptography;
using System.Text;
using ActorImages.Testing;

namespace ActorImages.Cluster.Tests;

/// <summary>Distinct real images for cluster tests: a real JPEG from testdata with a unique trailer after its end
/// marker, as phone cameras write (docs/protocols.md, P1: an image is what a decoder reads from its header).</summary>
public static class Images
{
    private static readonly byte[] Rocket = TestImages.Bytes("rocket.jpg");

    /// <summary>A distinct JPEG.</summary>
    /// <param name="tag">Makes it unique.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Jpeg(string tag) => [.. Rocket, .. Encoding.ASCII.GetBytes("trailer:" + tag)];

    /// <summary>The lowercase hex md5 of <paramref name="bytes"/>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>32 hex characters.</returns>
    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));
}
