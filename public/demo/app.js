// The edge-im web chat page: a small client of the SDK (./sdk.js, built from src/sdk).
import EdgeIMChat from "./sdk.js";

const { EVENT, TYPES } = EdgeIMChat;
const $ = (id) => document.getElementById(id);
let chat;
let me = "";
let current = "";
const shown = new Map();

function tabId() {
  let id = sessionStorage.getItem("edge-im-tab");
  if (!id) sessionStorage.setItem("edge-im-tab", (id = `tab-${crypto.randomUUID().slice(0, 8)}`));
  return id;
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    const response = await fetch("/demo/session", { method: "POST", body: JSON.stringify({ userID: $("user-id").value.trim() }) });
    if (!response.ok) throw new Error(response.status === 404 ? "Sign-in works only on a local server (npm run dev)." : (await response.json()).message);
    const session = await response.json();
    chat = EdgeIMChat.create({ SDKAppID: session.SDKAppID, endpoint: location.origin, deviceID: tabId() });
    listen(chat);
    await chat.login({ userID: session.userID, userSig: session.userSig });
    me = session.userID;
    $("me").textContent = me;
    $("login").hidden = true;
    $("app").hidden = false;
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

function listen(chat) {
  chat.on(EVENT.NET_STATE_CHANGE, ({ data }) => ($("net").className = `net ${data.state}`));
  chat.on(EVENT.KICKED_OUT, ({ data }) => {
    alert(`Signed out: ${data.type}`);
    location.reload();
  });
  chat.on(EVENT.CONVERSATION_LIST_UPDATED, ({ data }) => renderConversations(data));
  chat.on(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, ({ data }) => {
    $("total-unread").hidden = data === 0;
    $("total-unread").textContent = String(data);
  });
  chat.on(EVENT.MESSAGE_RECEIVED, ({ data }) => {
    for (const message of data) if (message.conversationID === `C2C${current}`) addMessage(message);
    if (document.visibilityState === "visible" && data.some((m) => m.conversationID === `C2C${current}` && m.flow === "in")) {
      void chat.setMessageRead({ conversationID: `C2C${current}` });
    }
  });
  chat.on(EVENT.MESSAGE_REVOKED, ({ data }) => data.forEach((m) => shown.get(m.ID) && addMessage({ ...shown.get(m.ID).message, isRevoked: true })));
  chat.on(EVENT.MESSAGE_READ_BY_PEER, ({ data }) => data.forEach((m) => shown.get(m.ID) && addMessage({ ...shown.get(m.ID).message, isPeerRead: true })));
}

function renderConversations(list) {
  const ul = $("conversations");
  ul.replaceChildren(
    ...list.map((c) => {
      const peer = c.conversationID.slice(3);
      const li = document.createElement("li");
      li.dataset.peer = peer;
      li.className = peer === current ? "active" : "";
      const text = document.createElement("div");
      text.className = "text";
      text.innerHTML = `<div class="who"></div><div class="last"></div>`;
      text.querySelector(".who").textContent = `${c.isPinned ? "📌 " : ""}${peer}`;
      text.querySelector(".last").textContent = c.lastMessage?.messageForShow ?? "";
      li.append(text);
      if (c.unreadCount > 0) {
        const badge = document.createElement("span");
        badge.className = "badge unread";
        badge.textContent = String(c.unreadCount);
        li.append(badge);
      }
      li.addEventListener("click", () => open(peer));
      return li;
    }),
  );
}

$("new-chat").addEventListener("submit", (e) => {
  e.preventDefault();
  const peer = $("peer-id").value.trim();
  if (peer && peer !== me) open(peer);
  $("peer-id").value = "";
});

async function open(peer) {
  current = peer;
  shown.clear();
  $("messages").replaceChildren();
  $("peer-title").textContent = peer;
  $("composer").hidden = false;
  for (const li of $("conversations").children) li.className = li.dataset.peer === peer ? "active" : "";
  const { data } = await chat.getMessageList({ conversationID: `C2C${peer}` });
  data.messageList.forEach(addMessage);
  await chat.setMessageRead({ conversationID: `C2C${peer}` });
}

function addMessage(message) {
  const existing = shown.get(message.ID);
  const li = existing?.li ?? document.createElement("li");
  li.className = `${message.flow}${message.isRevoked ? " revoked" : ""}`;
  li.dataset.id = message.ID;
  const body = message.isRevoked ? "Message recalled" : message.type === TYPES.MSG_TEXT ? message.payload.text : `[${message.type}]`;
  li.innerHTML = `<div class="body"></div><div class="meta"><time></time><span class="receipt"></span></div>`;
  li.querySelector(".body").textContent = body;
  li.querySelector("time").textContent = new Date(message.time * 1000).toLocaleTimeString();
  if (message.flow === "out" && !message.isRevoked) {
    li.querySelector(".receipt").textContent = message.isPeerRead ? "Read" : "Sent";
    const recall = document.createElement("button");
    recall.textContent = "Recall";
    recall.addEventListener("click", async () => {
      try {
        await chat.revokeMessage(message);
        addMessage({ ...message, isRevoked: true });
      } catch (error) {
        alert(`Cannot recall: ${error.message}`);
      }
    });
    li.querySelector(".meta").append(recall);
  }
  shown.set(message.ID, { li, message });
  if (!existing) $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim() || !current) return;
  $("text").value = "";
  try {
    const { data } = await chat.sendMessage(chat.createTextMessage({ to: current, payload: { text } }));
    addMessage(data.message);
  } catch (error) {
    alert(`Not sent: ${error.message}`);
  }
});

for (const button of document.querySelectorAll("[data-emoji]")) {
  button.addEventListener("click", () => {
    $("text").value += button.dataset.emoji;
    $("text").focus();
  });
}
