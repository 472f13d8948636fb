#!/usr/bin/env python3
"""Opcode-level gas profile of one AnchorMirror.submitCheckpoint: 3-of-5 signatures, a
20-hash consistency proof (700,002 -> 2^20 records), on a Cancun anvil with
--steps-tracing, via debug_traceTransaction (gas of each opcode at the top call frame;
for STATICCALL, the gas the call really consumed).

    pip install eth-account eth-abi
    python3 tests/tools/gas_profile.py [deploy/artifacts/AnchorMirror.json [OLD_SIZE]]

Not part of the test suite (it needs those two PyPI packages); docs/BENCHMARKS.md quotes
its output. anvil comes from deploy/node_modules (bash deploy/scripts/install-tools.sh).
"""
import json, hashlib, subprocess, time, urllib.request, sys, collections
from eth_account import Account
from eth_abi import encode
from eth_utils import keccak
import os
ROOT=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANVIL=os.environ.get("ANVIL_BIN", ROOT+"/deploy/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
art=json.load(open(sys.argv[1] if len(sys.argv)>1 else ROOT+"/deploy/artifacts/AnchorMirror.json"))
p=subprocess.Popen([ANVIL,"--port","19555","--chain-id","31338","--hardfork","cancun","--steps-tracing"],stdout=subprocess.DEVNULL)
time.sleep(4)
def rpc(m,params):
    r=urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:19555",json.dumps({"jsonrpc":"2.0","id":1,"method":m,"params":params}).encode(),{"Content-Type":"application/json"}))
    j=json.load(r)
    if "error" in j: raise Exception(j["error"])
    return j["result"]
acct=rpc("eth_accounts",[])[0]
def send(to,data):
    tx={"from":acct,"data":data,"gas":hex(5_000_000)}
    if to: tx["to"]=to
    h=rpc("eth_sendTransaction",[tx])
    rc=None
    for _ in range(100):
        rc=rpc("eth_getTransactionReceipt",[h])
        if rc: break
        time.sleep(0.1)
    assert rc["status"]=="0x1", rc
    return h,rc
def sel(sig): return keccak(text=sig)[:4]
bc=art.get("bytecode") or art["evm"]["bytecode"]["object"]
if isinstance(bc,dict): bc=bc["object"]
if not bc.startswith("0x"): bc="0x"+bc
h,rc=send(None,bc+encode(["address","uint64"],[acct,3600]).hex())
mirror=rc["contractAddress"]
keys=[Account.create() for _ in range(5)]
addrs=sorted([k.address for k in keys],key=lambda a:int(a,16))
src=keccak(text="eip155:31337")
send(mirror,"0x"+(sel("setAttestors(bytes32,address[],uint8)")+encode(["bytes32","address[]","uint8"],[src,addrs,3])).hex())
# RFC 6962 tree
def lh(x): return hashlib.sha256(b"\0"+x).digest()
def nh(a,b): return hashlib.sha256(b"\1"+a+b).digest()
N=1<<20
leaves=[lh(i.to_bytes(32,'big')) for i in range(N)]
import functools
@functools.lru_cache(maxsize=None)
def mth(a,b):
    n=b-a
    if n==1: return leaves[a]
    k=1
    while k*2<n: k*=2
    return nh(mth(a,a+k),mth(a+k,b))
def subproof(m,a,b,flag):
    n=b-a
    if m==n: return [] if flag else [mth(a,b)]
    k=1
    while k*2<n: k*=2
    if m<=k: return subproof(m,a,a+k,flag)+[mth(a+k,b)]
    return subproof(m-k,a+k,b,False)+[mth(a,a+k)]
m=int(sys.argv[2]) if len(sys.argv)>2 else 700002
proof=subproof(m,0,N,True)
print("proof len",len(proof))
dom_t=keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
ds=keccak(encode(["bytes32","bytes32","bytes32","uint256","address"],[dom_t,keccak(text="EvidenceBridge AnchorMirror"),keccak(text="1"),31338,mirror]))
cpt=keccak(text="Checkpoint(bytes32 sourceChain,uint64 size,bytes32 root,uint64 sourceBlockNumber,bytes32 sourceBlockHash)")
byaddr={k.address:k for k in keys}
signers=[byaddr[a] for a in addrs[:3]]
def sigs(size,root,blk,bh):
    sh=keccak(encode(["bytes32","bytes32","uint64","bytes32","uint64","bytes32"],[cpt,src,size,root,blk,bh]))
    d=keccak(b"\x19\x01"+ds+sh)
    out=[]
    for k in signers:
        s=Account._sign_hash(d,k.key) if hasattr(Account,"_sign_hash") else Account.signHash(d,k.key)
        out.append(s.signature)
    return out
SUB="submitCheckpoint((bytes32,uint64,bytes32,uint64,bytes32),bytes32[],bytes[])"
def submit(size,root,blk,bh,pr):
    data=sel(SUB)+encode(["(bytes32,uint64,bytes32,uint64,bytes32)","bytes32[]","bytes[]"],[(src,size,root,blk,bh),pr,sigs(size,root,blk,bh)])
    return send(mirror,"0x"+data.hex())
submit(m,mth(0,m),10,b"\x11"*32,[])
h,rc=submit(N,mth(0,N),20,b"\x22"*32,proof)
print("gasUsed",int(rc["gasUsed"],16))
tr=rpc("debug_traceTransaction",[h,{"disableStorage":True,"disableMemory":True,"disableStack":True}])
by=collections.Counter(); cnt=collections.Counter()
logs=tr["structLogs"]
d0=min(l["depth"] for l in logs)
for i,l in enumerate(logs):
    g=l["gasCost"]
    # for calls, gasCost includes forwarded gas; use next step gas diff
    if l["op"] in ("STATICCALL","CALL","DELEGATECALL") and i+1<len(logs):
        nxt=[x for x in logs[i+1:] if x["depth"]==l["depth"]]
        g=l["gas"]-nxt[0]["gas"] if nxt else g
    if l["depth"]==d0: by[l["op"]]+=g; cnt[l["op"]]+=1
print("trace total (depth1)",sum(by.values()), "failed" , tr.get("failed"), "tx gas", tr.get("gas"))
for op,g in by.most_common(25): print(f"{op:14} {g:7} x{cnt[op]}")
p.kill()
