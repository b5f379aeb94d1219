using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ActorImages.Testing;

/// <summary>
/// Cluster certificates for test nodes (README "Limits and security": remoting is TLS with mutual authentication,
/// and a node without a certificate refuses to start). One cluster certificate is made per test run, with .NET's
/// certificate API (no openssl process), in a temp folder removed when the test process exits; every
/// <see cref="NodeProcess"/> gets it, so the whole suite runs over TLS. <see cref="Create"/> makes others, e.g. the
/// certificate of a rogue node.
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"actorimages-test-certs-{Guid.NewGuid():N}")).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return folder;
    });

    private static readonly Lazy<string> ClusterPath = new(() => Create("actorimages-test-cluster"));

    /// <summary>The password of every certificate file made here.</summary>
    public const string Password = "test-cluster-cert-password";

    /// <summary>The PKCS#12 file of the test run's cluster certificate (made on first use).</summary>
    public static string Cluster => ClusterPath.Value;

    /// <summary>Makes a self-signed certificate with its private key (ECDSA P-256, valid from a day ago for a
    /// year) as a PKCS#12 file protected by <see cref="Password"/>, mode 600, as <c>bin/cluster up</c> makes one.</summary>
    /// <param name="commonName">The subject's CN, also the file name.</param>
    /// <returns>The file's path.</returns>
    public static string Create(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Folder.Value, commonName + ".pfx");
        File.WriteAllBytes(path, certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, Password));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
