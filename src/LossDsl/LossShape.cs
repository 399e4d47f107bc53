using System;

namespace LossDsl;

/// <summary>
/// The shape of a contiguous NCHW batch: <c>N</c> images, <c>C</c> channels, <c>H</c> rows and <c>W</c> columns.
/// Every backend reads its inputs in this layout.
/// </summary>
/// <param name="N">Batch size (images).</param>
/// <param name="C">Channels per image.</param>
/// <param name="H">Rows per plane.</param>
/// <param name="W">Columns per plane.</param>
public readonly record struct LossShape(int N, int C, int H, int W)
{
    /// <summary>Number of (n, c) planes: <c>N * C</c>.</summary>
    public int Planes => checked(N * C);

    /// <summary>Pixels per plane: <c>H * W</c>.</summary>
    public int PlaneSize => checked(H * W);

    /// <summary>Total number of elements: <c>N * C * H * W</c>.</summary>
    public int Length => checked(N * C * H * W);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless every dimension is positive and the element count fits in an <see cref="int"/>.</summary>
    /// <param name="paramName">The parameter name to report.</param>
    public void Validate(string paramName = "shape")
    {
        if (N <= 0 || C <= 0 || H <= 0 || W <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, this, $"Every dimension of {paramName} must be positive; got {this}.");
        }

        if ((long)N * C * H * W > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(paramName, this, $"{paramName} has more than {int.MaxValue} elements.");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{N}x{C}x{H}x{W}";
}
