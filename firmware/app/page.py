"""The dongle's own page (``GET /``): the readings as a person reads them.

The VSE/AES recommendation (2024) asks a customer interface for a format the end user can
read; /api/v1/readings is JSON for programs. This page is static: the browser fetches that
JSON and /api/v1/status every 10 s (the recommendation's interval) and draws a table, a row
per reading in OBIS order: the name Home Assistant shows, with the code under it (a phone's
width holds two columns), then the value and unit. ``nm`` below writes the names as
``app/discovery.py``'s ``friendly_name`` does for codes written in digits, with or without
"A-B:" (an IEC 62056-21 readout's "1.8.0" is 1-0:'s; Python's int()
also takes "+1" and "1_2", which no meter writes): host_tests/test_page_browser.py runs both
over every code the corpus decodes to and a grid of 24,000 more. As discovery does, ``draw``
names a heat or water meter's readout (a code without "A-B:" in GJ, m3 or m3ph) by its codes. Drawn in the browser, the
page costs the dongle its constants and the two answers it serves anyway. Rendered here
(the first version, with discovery's names), a page of the SiL meter's 38 readings answered
503 at the gateway's heap floor beside a ROMFS image, and pushes were lost while it tried.

Loaded by the request and dropped after it (app/api.py).
"""

# In pieces under 512 bytes: loaded from a .mpy file, the page as one 3.5 kB constant needed
# a free block that size, which a fragmented heap near its floor did not have (503). Named
# "body", a name the gateway holds anyway (app/api.py says why).
body = (
    b"""<!DOCTYPE html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><link rel="icon" href="data:,"><title>meterlink</title>
<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}
td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}
td.v{text-align:right}td.n{white-space:nowrap}small{display:block;color:#666}</style>
<h1 id="h">meterlink</h1><p id="s">Loading the readings&hellip;</p><table id="t"></table>
""",
    b"""<p><a href="/api/v1/readings">Readings</a> and <a href="/api/v1/status">status</a> as JSON,
<a href="/metrics">metrics</a> for Prometheus, the <a href="/config">setup page</a>
(admin password).</p>
<script>
var Q=["","import","export","reactive import","reactive export","reactive Q1","reactive Q2",
"reactive Q3","reactive Q4","apparent import","apparent export","current","voltage",
"power factor","frequency"],
""",
    b"""K={p7:"power _",p8:"energy _",p4:"demand _",p6:"peak demand _",q7:"_",q32:"_ sags",
q36:"_ swells"},
A={"96.1.0":"Meter ID","96.1.1":"Meter ID 2","42.0.0":"Logical device name",
"1.0.0":"Meter clock","96.13.0":"Message","24.2.1":"Reading","24.2.3":"Reading",
"24.1.0":"Device type","0.0.0":"Meter number"},U="U L1U L2U L3    I L1I L2I L3I N ";
function num(s){s=s.trim();return /^[0-9]+$/.test(s)?+s:-1}
function nm(c){var p=(c.indexOf(":")<0&&/^[0-9]/.test(c)?"1-0:"+c:c).split(":");if(p.length!=2)return c;
""",
    b"""var ab=p[0].split("-"),x=p[1].split(".");if(ab.length!=2||x.length<2)return c;
if(x.length>3){var b=c.slice(0,c.lastIndexOf(".")),n=nm(b);return n==b?c:n+", billing period "+x[3]}
var C=num(x[0]),D=num(x[1]),E=x.length>2?num(x[2]):0;if(C<0||D<0||E<0)return c;
if(ab[0]=="0"){var n=A[x.slice(0,3).join(".")];return n?(ab[1]=="0"?n:n+", channel "+ab[1]):c}
if(ab[0]!="1")return c;
if(C==91)return "Current N";
if(C==81){var f=U.substr(4*Math.floor(E/10),4).trim(),g=U.substr(4*(E%10),4).trim();return D==7&&f&&g&&f!=g?"Angle "+f+" to "+g:c}
var ph=C>=21&&C<=80?Math.floor((C-1)/20):0,w=Q[C-20*ph],k=K[(C-20*ph<=10?"p":"q")+x[1]];
if(!w||!k)return c;k=k.replace("_",w);k=k[0].toUpperCase()+k.slice(1);
""",
    b"""if(ph)k+=" L"+ph;if(E){if(D!=6&&D!=8)return c;k+=" tariff "+E}return k}
function key(c){var p=c.replace(/^#/,"").split(/[-:.\\/]/),o=[];
for(var i=0;i<p.length;i++){if(!/^[0-9]+$/.test(p[i]))return [1,c];o.push(+p[i])}return [0,o]}
function cmp(a,b){var x=key(a),y=key(b);if(x[0]!=y[0])return x[0]-y[0];
if(x[0])return a<b?-1:a>b?1:0;for(var i=0;i<x[1].length&&i<y[1].length;i++)
if(x[1][i]!=y[1][i])return x[1][i]-y[1][i];return x[1].length-y[1].length}
""",
    b"""function shown(r){var v=r.value;if(v===null||v===undefined)return "";
if(typeof v=="object")v=Array.isArray(v)?v.map(function(x){return typeof x=="object"?JSON.stringify(x):x})
.join(", "):JSON.stringify(v);return r.unit?v+" "+r.unit:""+v}
function cell(row,text,cls){var d=row.insertCell();d.textContent=text;if(cls)d.className=cls;return d}
function draw(doc,st){var t=document.getElementById("t"),rd=doc.readings||{},codes=Object.keys(rd).sort(cmp);
""",
    b"""var ht=codes.some(function(c){return c.indexOf(":")<0&&/^(gj|m3|m3ph)$/i.test(rd[c].unit)});
""",
    b"""t.textContent="";if(codes.length){var h=t.insertRow();["Reading (OBIS code)","Value"].forEach(function(s){
var e=document.createElement("th");e.textContent=s;h.appendChild(e)})}
codes.forEach(function(c){var r=t.insertRow(),v=rd[c],s=document.createElement("small");
s.textContent=c;cell(r,ht&&c.indexOf(":")<0?c:nm(c)).appendChild(s);cell(r,shown(v),typeof v.value=="number"?"v n":"v")});
var e=0;for(var k in st.errors||{})e+=st.errors[k];
""",
    b"""document.title=document.getElementById("h").textContent="meterlink "+(st.device_id||"");
document.getElementById("s").textContent=(codes.length?"Meter time "+(doc.meter_time||"not sent"):
"No reading yet: the meter has sent nothing this dongle could decode")+". "+(st.telegrams||0)+
" telegrams decoded, "+e+" errors"+(e&&st.last_error?" (the last: "+st.last_error+")":"")+
". Updated every 10 s."}
function load(){Promise.all(["/api/v1/readings","/api/v1/status"].map(function(u){
""",
    b"""return fetch(u).then(function(r){if(!r.ok)throw new Error(u+" answered "+r.status);return r.json()})}))
.then(function(d){draw(d[0],d[1])}).catch(function(e){document.getElementById("s").textContent=
"Could not load the readings ("+e.message+"): trying again in 10 s."})}
if(window.fetch&&window.Promise){load();setInterval(load,10000)}
else document.getElementById("s").textContent="This browser cannot load the readings: "+
"open /api/v1/readings.";
</script>
""",
)
