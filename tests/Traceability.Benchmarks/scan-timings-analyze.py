import sys, statistics as st
srv, cli = sys.argv[1], sys.argv[2]
S={}; G={}; P=[]; C=[]
for line in open(srv):
    f=line.split()
    if f[0]=='S': S[f[1]]=dict(a=int(f[2]),created=int(f[3]),taken=int(f[4]),answered=int(f[5]),b=int(f[6]),g=int(f[7]))
    elif f[0]=='G': G[int(f[1])]=dict(n=int(f[2]),t0=int(f[3]),t1=int(f[4]),read=int(f[5]),plan=int(f[6]),cap=int(f[7]),lock=int(f[8]),capd=int(f[9]),t2=int(f[10]),gcp=int(f[11])/1e4,g0=int(f[12]),g1=int(f[13]),g2=int(f[14]),thr=int(f[15]),pend=int(f[16]),wait=int(f[17]))
    elif f[0]=='P': P.append((int(f[1]),int(f[2]),int(f[3]),int(f[4])))
    elif f[0]=='C': C.append((int(f[1]),int(f[2])))
rows=[]
for line in open(cli):
    ser,sc,s,e=line.split(); s=int(s); e=int(e)
    if ser in S: rows.append((ser,int(sc),s,e,S[ser]))
ms=lambda x:x/1e6
def pct(v,p): v=sorted(v); return v[min(len(v)-1,int(p*len(v)))]
tot=[ms(e-s) for _,_,s,e,_ in rows]
print(f"n={len(rows)} client p50 {pct(tot,.5):.2f} p99 {pct(tot,.99):.2f} max {max(tot):.1f}")
comp={'send->srv':[], 'srv->handler':[], 'queue(taken-created)':[], 'group(answered-taken)':[], 'answered->srvend':[], 'srvend->client':[]}
for _,_,s,e,x in rows:
    comp['send->srv'].append(ms(x['a']-s)); comp['srv->handler'].append(ms(x['created']-x['a']))
    comp['queue(taken-created)'].append(ms(x['taken']-x['created'])); comp['group(answered-taken)'].append(ms(x['answered']-x['taken']))
    comp['answered->srvend'].append(ms(x['b']-x['answered'])); comp['srvend->client'].append(ms(e-x['b']))
for k,v in comp.items(): print(f"  {k:24s} mean {st.mean(v):6.2f} p50 {pct(v,.5):6.2f} p90 {pct(v,.9):6.2f} p99 {pct(v,.99):6.2f} max {max(v):7.2f}")
thr=float(sys.argv[3]) if len(sys.argv)>3 else 20
slow=[r for r in rows if ms(r[3]-r[2])>thr]
print(f"slow (> {thr} ms): {len(slow)}")
for k in comp: 
    pass
def parts(r):
    _,_,s,e,x=r
    return [ms(x['a']-s),ms(x['created']-x['a']),ms(x['taken']-x['created']),ms(x['answered']-x['taken']),ms(x['b']-x['answered']),ms(e-x['b'])]
if slow:
    import collections
    avg=[st.mean(p) for p in zip(*[parts(r) for r in slow])]
    print("  slow mean parts:", " ".join(f"{k}={a:.2f}" for k,a in zip(comp,avg)))
    t0=min(r[2] for r in rows)
    # clustering: time (ms since start) histogram in 100 ms bins
    bins=collections.Counter(int(ms(r[2]-t0)//100) for r in slow)
    print("  slow by 100ms bin (bin:count) top:", sorted(bins.items(), key=lambda kv:-kv[1])[:15])
    print("  distinct bins:", len(bins), "of", int(ms(max(r[3] for r in rows)-t0)//100)+1)
# groups
gs=sorted(G.values(), key=lambda g:g['t0'])
dur=[ms(g['t2']-g['t0']) for g in gs]
print(f"groups {len(gs)}, size mean {st.mean(g['n'] for g in gs):.1f}; duration p50 {pct(dur,.5):.2f} p99 {pct(dur,.99):.2f} max {max(dur):.2f}")
for name,a,b in [('gates','t0','t1'),('read','t1','read'),('plan','read','plan'),('cap->lock','cap','lock'),('lock->captured','lock','capd'),('captured->end','capd','t2')]:
    v=[ms(g[b]-g[a]) for g in gs]
    print(f"  {name:16s} mean {st.mean(v):6.2f} p50 {pct(v,.5):6.2f} p99 {pct(v,.99):6.2f} max {max(v):7.2f}")
gap=[ms(gs[i+1]['t0']-gs[i]['t2']) for i in range(len(gs)-1)]
print(f"  gap between groups mean {st.mean(gap):.3f} p99 {pct(gap,.99):.2f} max {max(gap):.2f}")
print(f"  gc pause total during groups {sum(g['gcp'] for g in gs):.1f} ms; gen0 {gs[-1]['g0']-gs[0]['g0']} gen1 {gs[-1]['g1']-gs[0]['g1']} gen2 {gs[-1]['g2']-gs[0]['g2']}; threads {min(g['thr'] for g in gs)}-{max(g['thr'] for g in gs)}; pending work max {max(g['pend'] for g in gs)}")
long=[g for g in gs if ms(g['t2']-g['t0'])>10]
print(f"  long groups (>10ms): {len(long)}")
for g in long[:25]:
    ov=[('P',ms(p[0]-g['t0']),ms(p[2]-p[1])) for p in P if p[2]>g['t0'] and p[0]<g['t2']]+[('C',ms(c[0]-g['t0']),ms(c[1]-c[0])) for c in C if c[1]>g['t0'] and c[0]<g['t2']]
    print(f"    n={g['n']} dur {ms(g['t2']-g['t0']):.1f} read {ms(g['read']-g['t1']):.1f} plan {ms(g['plan']-g['read']):.1f} lockwait {ms(g['lock']-g['cap']):.1f} cap {ms(g['capd']-g['lock']):.1f} end {ms(g['t2']-g['capd']):.1f} gc {g['gcp']:.1f} overlaps {ov}")
pd=[ms(p[2]-p[1]) for p in P]; pw=[ms(p[1]-p[0]) for p in P]
if P: print(f"projections {len(P)}: hold p50 {pct(pd,.5):.2f} max {max(pd):.2f}; wait p50 {pct(pw,.5):.2f}")
cd=[ms(c[1]-c[0]) for c in C]
if C: print(f"checkpoints {len(C)}: p50 {pct(cd,.5):.2f} max {max(cd):.2f}")
print("--- attribution")
def overlaps(a,b,iv): return any(x[0]<b and x[-1]>a for x in iv)
Civ=[(c[0],c[1]) for c in C]; Piv=[(p[1],p[2]) for p in P]
cats={'ckpt':[], 'proj':[], 'gc':[], 'none':[]}
for g in gs:
    d=ms(g['t2']-g['t0'])
    if g['gcp']>0: cats['gc'].append(d)
    elif overlaps(g['t0'],g['t2'],Civ): cats['ckpt'].append(d)
    elif overlaps(g['t0'],g['t2'],Piv): cats['proj'].append(d)
    else: cats['none'].append(d)
for k,v in cats.items():
    if v: print(f"  groups {k:5s} n={len(v):5d} dur mean {st.mean(v):6.2f} p50 {pct(v,.5):6.2f} p90 {pct(v,.9):6.2f} p99 {pct(v,.99):6.2f}")
# per-request: did its life [s,e] overlap checkpoint / gc group / projection
gciv=[(g['t0'],g['t2']) for g in gs if g['gcp']>0]
rc={'ckpt':[], 'gc':[], 'proj':[], 'none':[]}
for _,_,s,e,x in rows:
    d=ms(e-s)
    if overlaps(s,e,gciv): rc['gc'].append(d)
    elif overlaps(s,e,Civ): rc['ckpt'].append(d)
    elif overlaps(s,e,Piv): rc['proj'].append(d)
    else: rc['none'].append(d)
for k,v in rc.items():
    if v: print(f"  requests {k:5s} n={len(v):5d} mean {st.mean(v):6.2f} p50 {pct(v,.5):6.2f} p90 {pct(v,.9):6.2f} p99 {pct(v,.99):6.2f} >20ms {sum(1 for d in v if d>20)}")
span=ms(max(r[3] for r in rows)-min(r[2] for r in rows))
print(f"  time in checkpoints {sum(ms(c[1]-c[0]) for c in C)/span*100:.1f}% of {span:.0f} ms; gc pause {sum(g['gcp'] for g in gs)/span*100:.1f}%")
print("--- jit/gc/cpu per 0.5 s (only during the client's window)")
J=[list(map(int,l.split()[1:])) for l in open(srv) if l.startswith('J ')]
t0=min(r[2] for r in rows); t1=max(r[3] for r in rows)
prev=None
for j in J:
    if prev and j[0]>=t0-1e9 and prev[0]<=t1:
        dt=(j[0]-prev[0])/1e9
        print(f"  t={ms(j[0]-t0)/1000:6.2f}s jit +{j[1]-prev[1]:4d} methods {(j[2]-prev[2])/1e4/dt/10:5.1f}% ; gc0 +{j[3]-prev[3]} gc1 +{j[4]-prev[4]} gc2 +{j[5]-prev[5]} pause {(j[6]-prev[6])/1e4:5.1f} ms; cpu {(j[7]-prev[7])/1e7/dt*100:5.0f}% thr {j[8]} alloc {(j[9]-prev[9])/1e6/dt:6.1f} MB/s")
    prev=j
print("--- latency per second of the window")
by=collections.defaultdict(list) if 'collections' in dir() else None
import collections
by=collections.defaultdict(list)
for _,_,s,e,x in rows: by[int(ms(s-t0)//1000)].append(ms(e-s))
for k in sorted(by): v=by[k]; print(f"  {k:3d}s n={len(v):5d} p50 {pct(v,.5):6.2f} p99 {pct(v,.99):6.2f} max {max(v):6.1f}")

jw=[j for j in J if t0<=j[0]<=t1]
if len(jw)>1: print(f"allocated per scan: {(jw[-1][9]-jw[0][9])/sum(1 for r in rows if jw[0][0]<=r[2]<=jw[-1][0])/1024:.1f} KiB; gen0 GCs per 1000 scans {(jw[-1][3]-jw[0][3])*1000/sum(1 for r in rows if jw[0][0]<=r[2]<=jw[-1][0]):.2f}")
