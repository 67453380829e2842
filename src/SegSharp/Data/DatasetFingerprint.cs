using System.Security.Cryptography;
using System.Text;

namespace SegSharp.Data;

/// <summary>A content hash of a dataset: SHA-256 over every pair's stem and file bytes, in name order.</summary>
internal static class DatasetFingerprint
{
    public static string Compute(ISegmentationDataset dataset)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (dataset is ShapesDataset shapes)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{ShapesDataset.Spec}|{shapes.Count}|{shapes.Size}|{shapes.Seed}"));
        }
        else if (dataset is FolderDataset folder)
        {
            for (int i = 0; i < folder.Count; i++)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(folder.NameOf(i) + "|"));
                hash.AppendData(File.ReadAllBytes(folder.ImagePath(i)));
                hash.AppendData(File.ReadAllBytes(folder.MaskPath(i)));
            }
        }
        else
        {
            for (int i = 0; i < dataset.Count; i++) hash.AppendData(Encoding.UTF8.GetBytes(dataset.NameOf(i) + "\n"));
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }
}
