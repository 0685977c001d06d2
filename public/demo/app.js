// The edge-im web chat page: a small client of the SDK (./sdk.js, built from src/sdk).
import EdgeIMChat from "./sdk.js";

const { EVENT, TYPES } = EdgeIMChat;
const $ = (id) => document.getElementById(id);
let chat;
let me = "";
/** The open conversation's ID: "C2C<userID>" or "GROUP<groupID>". */
let current = "";
const shown = new Map();
/** The user's groups by ID, as GROUP_LIST_UPDATED last told. */
let groups = new Map();
let conversations = [];
/** Group tips are not in the history: the page keeps those it saw, per conversation. */
const tips = new Map();
/** Live rooms (AVChatRoom) this tab watches, by ID: their name. A live room is a comment stream, not a conversation. */
const liveRooms = new Map();
/** While a live room is open, its online count is asked for every few seconds. */
let onlineTimer;
const onlineRefreshMs = 3_000;

const isGroup = (conversationID) => conversationID.startsWith(TYPES.CONV_GROUP);
const idOf = (conversationID) => conversationID.slice(isGroup(conversationID) ? TYPES.CONV_GROUP.length : TYPES.CONV_C2C.length);
const typeNames = { Private: "Work", Public: "Public", ChatRoom: "Meeting", Community: "Community", AVChatRoom: "Live room" };
const isLive = (conversationID) => isGroup(conversationID) && liveRooms.has(idOf(conversationID));

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
    await showGroups((await chat.getGroupList()).data.groupList);
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
  chat.on(EVENT.CONVERSATION_LIST_UPDATED, ({ data }) => {
    conversations = data;
    renderConversations();
  });
  chat.on(EVENT.GROUP_LIST_UPDATED, ({ data }) => void showGroups(data));
  chat.on(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, ({ data }) => {
    $("total-unread").hidden = data === 0;
    $("total-unread").textContent = String(data);
  });
  chat.on(EVENT.MESSAGE_RECEIVED, ({ data }) => {
    for (const message of data) {
      if (message.type === TYPES.MSG_GRP_SYS_NOTICE) showNotice(message);
      else if (message.type === TYPES.MSG_GRP_TIP) {
        tips.set(message.conversationID, [...(tips.get(message.conversationID) ?? []), message]);
        if (message.conversationID === current) addTip(message);
        if (message.payload.operationType !== TYPES.GRP_TIP_GRP_PROFILE_UPDATED && message.conversationID === current && !isLive(current)) void showMembers();
      } else if (message.conversationID === current) addMessage(message);
    }
    if (isLive(current)) return;
    if (document.visibilityState === "visible" && data.some((m) => m.conversationID === current && m.flow === "in" && m.type !== TYPES.MSG_GRP_TIP)) {
      void chat.setMessageRead({ conversationID: current });
    }
  });
  chat.on(EVENT.MESSAGE_REVOKED, ({ data }) => data.forEach((m) => shown.get(m.ID) && addMessage({ ...shown.get(m.ID).message, isRevoked: true })));
  chat.on(EVENT.MESSAGE_MODIFIED, ({ data }) => data.forEach((m) => shown.get(m.ID) && addMessage(m)));
  chat.on(EVENT.MESSAGE_READ_BY_PEER, ({ data }) => data.forEach((m) => shown.get(m.ID) && addMessage({ ...shown.get(m.ID).message, isPeerRead: true })));
}

async function showGroups(list) {
  groups = new Map(list.map((g) => [g.groupID, g]));
  renderConversations();
  if (isGroup(current) && !groups.has(idOf(current)) && !isLive(current)) {
    $("group-panel").hidden = true;
    $("composer").hidden = true;
    $("peer-title").textContent = `${$("peer-title").textContent} (you are not a member)`;
  }
}

/** Conversations, and groups without messages yet below them. */
function renderConversations() {
  const listed = new Set(conversations.map((c) => c.conversationID));
  const quiet = [...groups.keys(), ...liveRooms.keys()]
    .filter((groupID, i, all) => !listed.has(`GROUP${groupID}`) && all.indexOf(groupID) === i)
    .map((groupID) => ({ conversationID: `GROUP${groupID}`, unreadCount: 0, lastMessage: null, isPinned: false }));
  $("conversations").replaceChildren(...[...conversations, ...quiet].map(conversationItem));
}

function conversationItem(c) {
  const li = document.createElement("li");
  const id = idOf(c.conversationID);
  if (isGroup(c.conversationID)) li.dataset.group = id;
  else li.dataset.peer = id;
  li.className = c.conversationID === current ? "active" : "";
  const text = document.createElement("div");
  text.className = "text";
  text.innerHTML = `<div class="who"></div><div class="last"></div>`;
  text.querySelector(".who").textContent = `${c.isPinned ? "📌 " : ""}${titleOf(c.conversationID, c)}`;
  text.querySelector(".last").textContent = c.lastMessage?.messageForShow ?? "";
  li.append(text);
  if (c.groupAtInfoList?.length) {
    const at = document.createElement("span");
    at.className = "mention";
    at.textContent = "@";
    li.append(at);
  }
  if (c.unreadCount > 0) {
    const badge = document.createElement("span");
    badge.className = "badge unread";
    badge.textContent = String(c.unreadCount);
    li.append(badge);
  }
  li.addEventListener("click", () => open(c.conversationID));
  return li;
}

function titleOf(conversationID, c) {
  if (!isGroup(conversationID)) return idOf(conversationID);
  const group = groups.get(idOf(conversationID));
  if (isLive(conversationID)) return `📺 ${liveRooms.get(idOf(conversationID)) || idOf(conversationID)}`;
  const name = group?.name || c?.groupProfile?.name || idOf(conversationID);
  return `👥 ${name}`;
}

$("new-chat").addEventListener("submit", (e) => {
  e.preventDefault();
  const peer = $("peer-id").value.trim();
  if (peer && peer !== me) open(`C2C${peer}`);
  $("peer-id").value = "";
});

$("new-group").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const { group } = (await chat.createGroup({ name: $("group-name").value.trim(), type: $("group-type").value })).data;
    $("group-name").value = "";
    groups.set(group.groupID, group);
    status(`Created ${typeNames[group.type]} group ${group.groupID}`);
    await open(`GROUP${group.groupID}`);
  } catch (error) {
    status(`Cannot create the group: ${error.message}`);
  }
});

$("join-group").addEventListener("submit", async (e) => {
  e.preventDefault();
  const groupID = $("join-id").value.trim();
  try {
    const { status: joined, group } = (await chat.joinGroup({ groupID, applyMessage: `${me} would like to join` })).data;
    $("join-id").value = "";
    const room = group ?? (joined === TYPES.JOIN_STATUS_ALREADY_IN_GROUP ? (await chat.searchGroupByID(groupID)).data.group : undefined);
    if (room?.type === TYPES.GRP_AVCHATROOM) liveRooms.set(groupID, room.name);
    if (joined === TYPES.JOIN_STATUS_WAIT_APPROVAL) status(`Asked to join ${groupID}: waiting for an admin`);
    else {
      status(`Joined ${groupID}`);
      await open(`GROUP${groupID}`);
    }
  } catch (error) {
    status(`Cannot join ${groupID}: ${error.message}`);
  }
});

function status(text) {
  $("group-status").textContent = text;
}

async function open(conversationID) {
  current = conversationID;
  shown.clear();
  $("messages").replaceChildren();
  $("peer-title").textContent = titleOf(conversationID);
  $("group-id").textContent = isGroup(conversationID) ? idOf(conversationID) : "";
  $("composer").hidden = false;
  $("group-panel").hidden = !isGroup(conversationID);
  const live = isLive(conversationID);
  $("panel-title").textContent = live ? "Live room" : "Members";
  $("members").hidden = live;
  $("add-member").hidden = live;
  showOnline();
  renderConversations();
  // A live room keeps no history: its comments are those that arrive while it is open.
  if (live) return;
  const { data } = await chat.getMessageList({ conversationID });
  if (current !== conversationID) return;
  // Tips are shown among the messages by time.
  const items = [...data.messageList, ...(tips.get(conversationID) ?? [])].sort((a, b) => a.time - b.time);
  for (const item of items) (item.type === TYPES.MSG_GRP_TIP ? addTip : addMessage)(item);
  if (isGroup(conversationID)) await showMembers();
  await chat.setMessageRead({ conversationID });
}

/** The open live room's online count, refreshed every few seconds while it stays open. */
function showOnline() {
  clearInterval(onlineTimer);
  $("online").hidden = !isLive(current);
  if (!isLive(current)) return;
  const groupID = idOf(current);
  const refresh = async () => {
    try {
      const { memberCount } = (await chat.getGroupOnlineMemberCount(groupID)).data;
      if (current === `GROUP${groupID}`) $("online").textContent = `● ${memberCount} online`;
    } catch (error) {
      if (current === `GROUP${groupID}`) $("online").textContent = `online: ${error.message}`;
    }
  };
  $("online").textContent = "● …";
  void refresh();
  onlineTimer = setInterval(refresh, onlineRefreshMs);
}

async function showMembers() {
  const groupID = idOf(current);
  try {
    const { memberList } = (await chat.getGroupMemberList({ groupID, count: 100 })).data;
    if (current !== `GROUP${groupID}`) return;
    $("members").replaceChildren(
      ...memberList.map((m) => {
        const li = document.createElement("li");
        li.dataset.user = m.userID;
        li.textContent = `${m.nameCard || m.nick || m.userID}${m.userID === me ? " (you)" : ""}`;
        if (m.role !== TYPES.GRP_MBR_ROLE_MEMBER) {
          const role = document.createElement("span");
          role.className = "role";
          role.textContent = m.role;
          li.append(role);
        }
        if (m.muteUntil * 1000 > Date.now()) li.append(" 🔇");
        return li;
      }),
    );
  } catch (error) {
    $("members").replaceChildren();
    status(`Members: ${error.message}`);
  }
}

$("add-member").addEventListener("submit", async (e) => {
  e.preventDefault();
  const userID = $("member-id").value.trim();
  try {
    const result = (await chat.addGroupMember({ groupID: idOf(current), userIDList: [userID] })).data;
    $("member-id").value = "";
    if (result.successUserIDList.length) status(`Added ${userID}`);
    else if (result.existedUserIDList.length) status(`${userID} is already a member`);
    else if (result.inviteeUserIDList.length) status(`Invited ${userID}: waiting for approval`);
    else status(`Could not add ${userID}`);
    await showMembers();
  } catch (error) {
    status(`Cannot add ${userID}: ${error.message}`);
  }
});

$("leave-group").addEventListener("click", async () => {
  const groupID = idOf(current);
  try {
    await chat.quitGroup(groupID);
    status(`Left ${groupID}`);
    if (liveRooms.delete(groupID)) {
      $("composer").hidden = true;
      $("group-panel").hidden = true;
      showOnline();
      renderConversations();
    }
  } catch (error) {
    status(`Cannot leave: ${error.message}`);
  }
});

const tipTexts = {
  1: (p) => `${p.userIDList.join(", ")} joined the group`,
  2: (p) => `${p.userIDList.join(", ")} left the group`,
  3: (p) => `${p.operatorID} removed ${p.userIDList.join(", ")}`,
  4: (p) => `${p.userIDList.join(", ")} is now an admin`,
  5: (p) => `${p.userIDList.join(", ")} is no longer an admin`,
  6: (p) => `${p.operatorID} changed the group: ${Object.keys(p.newGroupProfile ?? {}).join(", ")}`,
  7: (p) => (p.memberList ?? []).map((m) => `${m.userID} was ${m.muteTime > 0 ? `muted for ${m.muteTime} s` : "unmuted"}`).join("; "),
  10: (p) => `${p.userIDList.join(", ")} was banned from the room`,
  11: (p) => `${p.userIDList.join(", ")} may come back to the room`,
};

function addTip(message) {
  const li = document.createElement("li");
  li.className = "tip";
  li.textContent = tipTexts[message.payload.operationType]?.(message.payload) ?? "The group changed";
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
}

const noticeTexts = {
  1: (p) => `${p.operatorID} asks to join ${p.groupProfile.name || p.groupProfile.groupID}${p.handleMessage ? `: “${p.handleMessage}”` : ""}`,
  2: (p) => `You may now chat in ${p.groupProfile.name || p.groupProfile.groupID}`,
  3: (p) => `Your request to join ${p.groupProfile.groupID} was refused`,
  4: (p) => `${p.operatorID || "The room"} removed you from ${p.groupProfile.name || p.groupProfile.groupID}`,
  5: (p) => `${p.groupProfile.name || p.groupProfile.groupID} was dismissed`,
  7: (p) => `${p.operatorID} added you to ${p.groupProfile.name || p.groupProfile.groupID}`,
};

/** Group system notices: join requests can be answered here. */
function showNotice(message) {
  const p = message.payload;
  const text = noticeTexts[p.operationType]?.(p);
  if (!text) return;
  // Removed from a live room, or the room dismissed: it no longer streams here.
  if ((p.operationType === 4 || p.operationType === 5) && liveRooms.delete(p.groupProfile.groupID)) {
    if (current === `GROUP${p.groupProfile.groupID}`) $("composer").hidden = true;
    showOnline();
    renderConversations();
  }
  const li = document.createElement("li");
  li.textContent = text;
  if (p.operationType === 1) {
    li.className = "request";
    for (const [label, handleAction] of [["Approve", "Agree"], ["Refuse", "Reject"]]) {
      const button = document.createElement("button");
      button.textContent = label;
      button.addEventListener("click", async () => {
        try {
          await chat.handleGroupApplication({ handleAction, message });
          li.remove();
          if (current === `GROUP${p.groupProfile.groupID}`) await showMembers();
        } catch (error) {
          li.textContent = `${text} (${error.message})`;
        }
      });
      li.append(button);
    }
  } else setTimeout(() => li.remove(), 15_000);
  $("requests").append(li);
}

function addMessage(message) {
  const existing = shown.get(message.ID);
  const li = existing?.li ?? document.createElement("li");
  li.className = `${message.flow}${message.isRevoked ? " revoked" : ""}`;
  li.dataset.id = message.ID;
  const body = message.isRevoked ? "Message recalled" : message.type === TYPES.MSG_TEXT ? message.payload.text : `[${message.type}]`;
  li.innerHTML = `<div class="from"></div><div class="body"></div><div class="meta"><time></time><span class="receipt"></span></div>`;
  if (isGroup(message.conversationID) && message.flow === "in") li.querySelector(".from").textContent = message.nick || message.from;
  else li.querySelector(".from").remove();
  li.querySelector(".body").textContent = body;
  li.querySelector("time").textContent = `${new Date(message.time * 1000).toLocaleTimeString()}${message.isModified ? " · edited" : ""}`;
  if (message.flow === "out" && !message.isRevoked) {
    if (!isGroup(message.conversationID)) li.querySelector(".receipt").textContent = message.isPeerRead ? "Read" : "Sent";
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
  const conversationType = isGroup(current) ? TYPES.CONV_GROUP : TYPES.CONV_C2C;
  try {
    const { data } = await chat.sendMessage(chat.createTextMessage({ to: idOf(current), conversationType, payload: { text } }));
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
