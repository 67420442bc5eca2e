using System.Text;
using Traceability.Ledger.Crypto;

namespace Traceability.Ledger.Tests.Crypto;

public class Keccak256Tests
{
    // Expected values produced with ethers 6.15.0:
    // node -e 'const {keccak256,toUtf8Bytes}=require("ethers"); console.log(keccak256(toUtf8Bytes(INPUT)))'
    // "a*N" stands for N letters 'a' (around the 136-byte rate boundary and over two blocks).
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("Anchored(uint256,bytes32,uint256,uint256,address)", "f2ab2a04c12c14a6c6f880bc84d979b389d00ea58f9a07663f24bd31d98f43a8")]
    [InlineData("a*135", "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446")]
    [InlineData("a*136", "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e")]
    [InlineData("a*137", "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39")]
    [InlineData("a*300", "5b7e0e47a96f32a88b4f14ca177982790807c40e1a105742ba0fc1babe1ef826")]
    public void HashReturnsEthersValueGivenUtf8Input(string input, string expectedHex)
    {
        var text = input.StartsWith("a*", StringComparison.Ordinal) ? new string('a', int.Parse(input[2..])) : input;
        Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(text))).Should().Be(expectedHex);
    }
}
