/**
 * The featurizer's vocabulary: for each signal, the words that are evidence of it. Broad, general-purpose lists
 * written from what the subjects and tasks are (a textbook's index, not any benchmark's outcomes), in English and
 * Chinese. vocabulary.ts compiles them into hash lookups.
 *
 * Notation, entries separated by white space:
 * - `word`: that word (lower case);
 * - `stem*`: every word starting with `stem` (4 to 12 letters), e.g. `biolog*` for biology, biological, biologist;
 * - `first+second`: the two words in a row, articles (a, an, the) between them skipped: `write+function` matches
 *   "write a function";
 * - two Han characters: that pair of ideographs in a row (Chinese puts no spaces between words; most of its words
 *   are two characters).
 *
 * Each entry belongs to one signal only (lexicon.spec.ts checks it), so every word is written once.
 */
export const SIGNALS = [
  'stem',
  'humanities',
  'medicine',
  'social',
  'everyday',
  'quantity',
  'code-task',
  'translation',
  'reasoning',
  'creative',
  'summary',
] as const;
export type Signal = (typeof SIGNALS)[number];

/** Bit of a signal in a signal mask. */
export const signalBit = (s: Signal): number => 1 << SIGNALS.indexOf(s);

export const LEXICON: Readonly<Record<Signal, string>> = {
  /** Physical sciences, mathematics as a subject, engineering and computing. */
  stem: `
    physic* chemi* molecul* atom* electr* magnet* quantum velocit* acceler* gravit* momentum thermo* kinetic friction
    newton* joule* watts voltage* circuit* wavelength* frequenc* photon* nuclear nucleus radiat* spectr* laser*
    density mass temperatur* celsius fahrenheit liquid* evaporat* condens* experiment* hypothes*
    planet* orbit* galax* astronom* telescop* mineral* geolog* volcan* earthquake* tecton* erosion sediment* fossil* climat*
    acid* oxid* hydrogen oxygen carbon* metal* compound*
    algebra* geometr* calculus polynom* matri* vector* theorem* trigonom* logarithm* exponent* derivativ* integral*
    statistic*
    algorithm* computer* computing computation* software hardware network* databas* binary transistor* semiconduct*
    protocol* tcp engineer* mechani*
    物理 化学 电路 电压 电流 电子 原子 分子 能量 速度 加速 力学 引力 磁场 光子 波长 频率 温度 压强 密度 元素 氧化 金属
    行星 天文 地质 矿物 函数 几何 代数 矩阵 向量 定理 导数 积分 数列 算法 算机 程序 数据 网络 协议 传输 软件 硬件 工程
    机械 实验`,
  /** History, philosophy, religion, the arts and literature, law. */
  humanities: `
    histor* philosoph* religi* ethic* moral* theolog* literar* literature artist* painting* sculpt* music* myth*
    ancient empire* emperor* dynast* medieval renaissance colonial* civilization* war wars warfare king kings kingdom*
    church* god gods bible biblical christian* islam* muslim* buddh* hindu* confuci* plato* aristotle* socrat* kant*
    hegel* nietzsche descartes poet poets
    law laws legal* court courts judge* statute* constitution* plaintiff* defendant* contract* tort torts crimin*
    crime crimes jury juries juror* attorney* lawyer* liabil* negligen* testimon* prosecut* felony verdict* convict*
    lawsuit* appellate amendment*
    历史 朝代 皇帝 王朝 战争 革命 古代 哲学 思想 宗教 佛教 儒家 孔子 道德 伦理 文学 诗人 小说 艺术 音乐 法律 法院 刑法
    民法 宪法 合同 诉讼 犯罪 判决 权利 义务 法规 条例 律师 刑事 民事`,
  /** Biology, medicine and health. */
  medicine: `
    biolog* cell cells cellular gene genes genet* genom* dna rna protein* enzym* organism* species evolut* evolv*
    bacteri* virus* viral infect* immun* diseas* patient* symptom* diagnos* treatment* therap* clinic* medic* drug
    drugs pharma* dose doses dosage surgery surgeon* surgical hospital* nurse nurses nursing anatom* physiolog* neuro*
    brain* blood tissue* organ organs hormon* metabol* photosynth* ecolog* ecosystem* mammal* reptil* insect* fungi
    fungus chromosom* mutation* vaccin* cancer* tumor* tumour* cardiac cardiovascular renal liver lung lungs kidney*
    pregnan* fetal fetus nutrient* nutrition* vitamin* heredit* allele* plant plants animal* habitat* predator* prey
    digest* respirat* muscle* bone bones skeleton* pathogen* antibiot* syndrome* chronic
    细胞 基因 遗传 蛋白 生物 物种 进化 细菌 病毒 感染 免疫 疾病 患者 病人 症状 诊断 治疗 临床 医学 医生 药物 手术 医院
    护理 解剖 生理 神经 血液 器官 激素 代谢 光合 生态 植物 动物 染色 突变 疫苗 癌症 肿瘤 心脏 肝脏 中医 针灸 方剂 营养`,
  /** Economics, business, psychology, sociology, politics, human geography, education. */
  social: `
    econom* market* demand supply inflation* monetar* fiscal gdp tax taxes taxation tariff* trade trades trading
    financ* investment* investor* invested investing profit* revenue* firm firms business* management manager managers managerial accounting
    accountant* audit* consumer* consumption employ* unemploy* labor labour wage wages capitalism capitalist price
    prices bank banks banking shareholder* stakeholder* corporat* advertis* poverty welfare
    psycholog* cognit* behavio* sociolog* societ* social* cultur* gender feminis* ideolog* marx* communis*
    politic* govern* democra* election* electoral policy policies vote votes voter* voting parliament* congress*
    senat* president* geograph* populat* urban* migra* immigra* educat* survey*
    经济 市场 价格 需求 供给 通货 货币 财政 税收 贸易 金融 投资 利润 企业 公司 管理 会计 审计 营销 消费 就业 工资 资本
    心理 认知 行为 社会 政治 政府 民主 选举 政策 人口 城市 地理 教育 学生 教师 马克 泽东 主义`,
  /** Home, family, food, shopping, pastimes: the common-sense world of everyday stories. */
  everyday: `
    home house houses kitchen* cook* food* meal* dinner* lunch* breakfast* eat eats eating ate drink* shop shops
    shopping store buy buys bought sell sells sold money friend* family families mother* father* mom dad parent*
    child children kid kids brother* sister* wife husband* daughter* son sons grandm* grandp* neighbor* neighbour*
    dog dogs cat cats pet pets car cars bike* bus drive drives driving drove walk* sleep* bed bedroom* room rooms
    door* chair* clothes clothing shirt* shoe* wash washed washes washing clean* weather rain rainy garden* park farm* party parties
    birthday* holiday* vacation* trip trips weekend* morning game games toy toys movie* ball balls candy cake*
    pizza* apple apples bake* school
    家庭 朋友 父母 孩子 妈妈 爸爸 吃饭 做饭 厨房 超市 购物 天气 下雨 旅游 游戏 运动 衣服 房间 宠物 睡觉 生日 周末 早餐
    晚饭 食品 食物`,
  /** Arithmetic and quantities: word problems and calculation. */
  quantity: `
    calculat* compute computed solve solved solving total* sum sums equation* fraction* probabil* percent* ratio
    ratios proportion* average* remainder* simplif* divide divided divisible division multiplied multiplication
    digit digits integer* decimal* dollar* cents cost costs spend* spent earn* per altogether how+many how+much what+percent
    计算 多少 求解 方程 面积 体积 周长 概率 百分 平均 总共 一共 几个 整数 等于`,
  /** A request for code in words ("write a function to…"), and programming vocabulary. */
  'code-task': `
    python javascript typescript java golang sql html css regex* json api compile* debug* refactor* recursion
    recursive* boolean* array arrays tuple tuples substring* snippet* codebase string strings lambda programming
    programmer*
    write+function write+program write+script write+code write+method write+class write+python write+javascript
    implement+function implement+algorithm implement+method implement+class python+function python+program
    python+code python+script function+to function+that function+which given+list given+array given+string
    given+tuple code+to code+that
    代码 编程`,
  translation: `
    translat* into+english into+french into+german into+spanish into+chinese into+japanese into+italian into+russian
    into+portuguese into+korean into+arabic into+dutch into+hindi
    翻译 译成 译为`,
  /** Asking for an explanation, an argument or a comparison. */
  reasoning: `
    why explain* explanat* reason reasons reasoning justif* compare comparing comparison analy* argue argument*
    by+step
    为什 解释 原因 分析 比较 理由`,
  creative: `
    story stories poem* poetry essay* song songs lyric* fiction* imagine* imaginat* creative* haiku* limerick* sonnet*
    narrative* tale tales screenplay* slogan* rhyme*
    故事 诗歌 作文 一首 写诗 创作`,
  /** Summarising, extracting, listing. */
  summary: `
    summar* tldr tl+dr extract* bullet* key+points main+points list+the outline paraphras*
    总结 摘要 概括 提取 归纳 概述`,
};
